import { describe, expect, test } from 'vitest';
import { renderEmail, renderNote } from '../../../src/notify/templates.ts';
import type { AskData, EmailPayload } from '../../../src/notify/topics.ts';

const program = { name: 'Acme Referrals', senderName: 'Acme Team', senderEmail: 'team@acme.test' };
const ask: AskData = {
  id: 'ask_1',
  accountName: 'Globex',
  championName: 'Carla Champion',
  askedBy: { name: 'Casey <CSM>', email: 'casey@acme.test' },
  message: 'Your rollout made our year & more.',
  programText: null,
};

function payload(over: Partial<AskData> = {}): EmailPayload {
  return {
    topic: 'referral.ask',
    messageId: 'msg_1',
    occurredAt: '2026-03-10T10:00:00.000Z',
    program,
    audience: 'referrer',
    data: { ask: { ...ask, ...over } },
    to: { name: 'Carla Champion', email: 'carla@globex.test' },
  };
}

describe('the referral ask email', () => {
  test('is signed by the colleague who asks, carries their line, and invites referrals from the portal', () => {
    const email = renderEmail(payload(), 'https://app.test/unsubscribe/rfr_1?key=k', 'https://app.test/portal/inst/link?to=ask%2Fask_1#t');
    expect(email.subject).toBe('Casey <CSM> would value an introduction');
    expect(email.text).toBe(
      [
        'Hi Carla Champion,',
        [
          'Thank you for working with us at Globex. It means a lot to our team.',
          'Your rollout made our year & more.',
          'If you know peers who could use Acme Referrals too, would you introduce us? It takes a minute on your own page: add one or several people, and we will keep you posted on each.',
        ].join('\n\n'),
        'Introduce someone you know: https://app.test/portal/inst/link?to=ask%2Fask_1#t',
        'Casey <CSM>\nAcme Referrals',
        '--\nTo stop these emails, open https://app.test/unsubscribe/rfr_1?key=k',
      ].join('\n\n'),
    );
    expect(email.html).toContain('Your rollout made our year &#38; more.');
    expect(email.html).toContain('Casey &#60;CSM&#62;<br>Acme Referrals');
    expect(email.html).toContain('>Introduce someone you know</a>');
    expect(email.html).not.toContain('<CSM>');
  });

  test('uses the program’s own words when it has them, and leaves out an absent personal line', () => {
    const email = renderEmail(payload({ message: null, programText: 'Know a team drowning in spreadsheets? Tell us.' }), undefined);
    expect(email.text).toContain('It means a lot to our team.\n\nKnow a team drowning in spreadsheets? Tell us.\n\nCasey <CSM>');
    expect(email.text).not.toContain('would you introduce us');
  });

  test('is noted on the company’s timeline naming who asked whom', () => {
    expect(renderNote({ topic: 'account.asked', data: { ask }, program })).toEqual({
      title: 'Acme Referrals: Referral ask sent to Carla Champion',
      body: 'Casey <CSM> asked Carla Champion of Globex for referrals by email.\n\nPersonal line: Your rollout made our year & more.\n\nAsk id: ask_1',
    });
  });
});
