import {
  Alert,
  Button,
  Divider,
  EmptyState,
  Flex,
  Form,
  Heading,
  hubspot,
  Input,
  LoadingSpinner,
  Select,
  StatusTag,
  Text,
  TextArea,
  useExtensionActions,
  useExtensionContext,
} from '@hubspot/ui-extensions';
import { useCallback, useEffect, useState } from 'react';
import { callReferloop, type CardRecord, OBJECT_TYPE, words } from './referloop.ts';

/** The verdict the API gives every submitter, in a 2xx answer for a card. */
interface Verdict {
  outcome: 'accepted' | 'duplicate' | 'conflict' | 'claim_pending' | 'choose_deal' | 'ineligible' | 'invalid';
  reasons: string[];
  collidesWith?: { referralId?: string; dealId?: string; ownerName?: string; referrerName?: string; protectedUntil?: string };
  deals?: { id: string; name: string | null; stage: string; ownerName: string | null }[];
  claim?: { dealId: string; expiresAt: string };
}

interface RecordReferral {
  id: string;
  status: string;
  submittedAt: string;
  referrer: { name: string; email: string };
  referee: { email: string };
}

type Shown = { tone: 'success' | 'info' | 'warning' | 'danger'; title: string; text: string };

/** A program of the installation, as `GET /programs` lists it. */
interface ProgramChoice {
  id: string;
  name: string;
  isDefault: boolean;
}

const REFERRER_TYPES = ['customer', 'partner', 'consultant', 'advisor', 'employee'].map((value) => ({
  label: value[0]!.toUpperCase() + value.slice(1),
  value,
}));

const STATUS_TONE: Record<string, 'default' | 'info' | 'success' | 'warning' | 'danger'> = {
  closed_won: 'success',
  closed_lost: 'danger',
  rejected: 'danger',
  expired: 'warning',
  claim_pending: 'warning',
  qualified: 'info',
  in_sales_process: 'info',
};

const EMPTY_FORM = { referrerName: '', referrerEmail: '', referrerType: 'customer', refereeEmail: '', notes: '' };

hubspot.extend<'crm.record.tab'>(() => <LogReferralCard />);

/**
 * *Log a referral* on contacts, companies and deals: the record's referrals, and a form whose
 * verdict is shown in words where the rep submitted it.
 */
export function LogReferralCard() {
  const context = useExtensionContext<'crm.record.tab'>();
  const actions = useExtensionActions<'crm.record.tab'>();
  const record: CardRecord = {
    portalId: String(context.portal.id),
    objectTypeId: context.crm.objectTypeId,
    objectId: String(context.crm.objectId),
  };
  const [referrals, setReferrals] = useState<RecordReferral[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [form, setForm] = useState(EMPTY_FORM);
  const [saving, setSaving] = useState(false);
  const [shown, setShown] = useState<Shown | null>(null);
  // Several open deals and none named: the rep picks the one the referral claims.
  const [deals, setDeals] = useState<NonNullable<Verdict['deals']>>([]);
  const [dealId, setDealId] = useState('');
  // Programs side by side: the rep says which one the referral is for (the default one unless changed).
  const [programs, setPrograms] = useState<ProgramChoice[]>([]);
  const [programId, setProgramId] = useState('');

  const load = useCallback(async () => {
    const answer = await callReferloop<{ items: RecordReferral[] }>('/referrals', {
      portalId: record.portalId,
      query: { crm: 'hubspot', objectTypeId: record.objectTypeId, objectId: record.objectId },
    });
    if (answer.ok) setReferrals(answer.body.items);
    else setLoadError(answer.message);
  }, [record.portalId, record.objectTypeId, record.objectId]);

  useEffect(() => {
    void callReferloop<{ items: ProgramChoice[] }>('/programs', { portalId: record.portalId }).then((answer) => {
      if (!answer.ok) return;
      setPrograms(answer.body.items);
      setProgramId(answer.body.items.find((p) => p.isDefault)?.id ?? '');
    });
  }, [record.portalId]);

  useEffect(() => {
    void load();
    // On a contact, the contact is the person referred.
    if (record.objectTypeId === OBJECT_TYPE.contact) {
      void actions.fetchCrmObjectProperties(['email']).then((properties) => {
        if (properties.email) setForm((f) => ({ ...f, refereeEmail: f.refereeEmail || properties.email! }));
      });
    }
  }, [load, actions, record.objectTypeId]);

  const submit = async () => {
    setSaving(true);
    setShown(null);
    const claimedDeal = record.objectTypeId === OBJECT_TYPE.deal ? record.objectId : dealId;
    const answer = await callReferloop<{ id?: string; verdict: Verdict }>('/referrals', {
      portalId: record.portalId,
      body: {
        crm: 'hubspot',
        objectTypeId: record.objectTypeId,
        objectId: record.objectId,
        referrer: { name: form.referrerName, email: form.referrerEmail, type: form.referrerType },
        referee: { email: form.refereeEmail },
        ...(form.notes ? { notes: form.notes } : {}),
        ...(programs.length > 1 && programId ? { programId } : {}),
        // On a deal the referral claims this deal; elsewhere the deal the rep picked, if any.
        ...(claimedDeal ? { deal: { id: claimedDeal } } : {}),
        submittedBy: {
          kind: 'rep',
          id: String(context.user.id),
          ...(context.user.firstName || context.user.lastName
            ? { name: [context.user.firstName, context.user.lastName].filter(Boolean).join(' ') }
            : {}),
        },
      },
    });
    setSaving(false);
    if (!answer.ok) {
      setShown({ tone: 'danger', title: 'Not logged', text: answer.message });
      return;
    }
    const { verdict } = answer.body;
    setDeals(verdict.outcome === 'choose_deal' ? (verdict.deals ?? []) : []);
    setShown(await describeVerdict(verdict, record.portalId));
    if (verdict.outcome === 'accepted' || verdict.outcome === 'claim_pending') {
      setForm((f) => ({ ...EMPTY_FORM, refereeEmail: record.objectTypeId === OBJECT_TYPE.contact ? f.refereeEmail : '' }));
      setDealId('');
      await load();
    }
  };

  if (referrals === null && !loadError) return <LoadingSpinner label="Loading referrals" />;
  return (
    <Flex direction="column" gap="md">
      {loadError && (
        <Alert title="Referrals not loaded" variant="error">
          {loadError}
        </Alert>
      )}
      <Heading>Referrals on this record</Heading>
      {referrals?.length ? (
        referrals.map((r) => (
          <Flex key={r.id} direction="row" gap="sm" align="center">
            <StatusTag variant={STATUS_TONE[r.status] ?? 'default'}>{words(r.status)}</StatusTag>
            <Text>{`${r.referee.email}, referred by ${r.referrer.name} (${r.referrer.email}) on ${r.submittedAt.slice(0, 10)}`}</Text>
          </Flex>
        ))
      ) : (
        <EmptyState title="No referrals yet" layout="vertical">
          <Text>Log who referred this record below.</Text>
        </EmptyState>
      )}
      <Divider />
      <Heading>Log a referral</Heading>
      <Form onSubmit={() => void submit()}>
        <Flex direction="column" gap="sm">
          <Input
            name="referrerName"
            label="Referrer name"
            required
            value={form.referrerName}
            onChange={(v) => setForm((f) => ({ ...f, referrerName: v }))}
          />
          <Input
            name="referrerEmail"
            label="Referrer email"
            required
            value={form.referrerEmail}
            onChange={(v) => setForm((f) => ({ ...f, referrerEmail: v }))}
          />
          <Select
            name="referrerType"
            label="Referrer type"
            options={REFERRER_TYPES}
            value={form.referrerType}
            onChange={(v) => setForm((f) => ({ ...f, referrerType: String(v) }))}
          />
          <Input
            name="refereeEmail"
            label="Referred person's email"
            required
            value={form.refereeEmail}
            onChange={(v) => setForm((f) => ({ ...f, refereeEmail: v }))}
          />
          <TextArea name="notes" label="Notes" value={form.notes} onChange={(v) => setForm((f) => ({ ...f, notes: v }))} />
          {programs.length > 1 && (
            <Select
              name="programId"
              label="Program"
              options={programs.map((p) => ({ label: p.name, value: p.id }))}
              value={programId}
              onChange={(v) => setProgramId(String(v))}
            />
          )}
          {deals.length > 0 && (
            <Select
              name="dealId"
              label="Deal this referral claims"
              required
              options={deals.map((d) => ({ label: `${d.name ?? d.id} (${d.stage}${d.ownerName ? `, ${d.ownerName}` : ''})`, value: d.id }))}
              value={dealId}
              onChange={(v) => setDealId(String(v))}
            />
          )}
          <Button type="submit" variant="primary" disabled={saving}>
            {saving ? 'Logging…' : 'Log referral'}
          </Button>
        </Flex>
      </Form>
      {shown && (
        <Alert title={shown.title} variant={shown.tone === 'danger' ? 'error' : shown.tone}>
          {shown.text}
        </Alert>
      )}
    </Flex>
  );
}

/**
 * The verdict in words: what happened and with whom it collided. A duplicate names the referrer
 * of the referral it duplicates, read from the API (the reasons name only its id).
 */
async function describeVerdict(verdict: Verdict, portalId: string): Promise<Shown> {
  const text = verdict.reasons.join(' ');
  switch (verdict.outcome) {
    case 'accepted':
      return { tone: 'success', title: 'Referral accepted', text };
    case 'claim_pending':
      return {
        tone: 'warning',
        title: 'Claim on this deal waiting for approval',
        text: verdict.claim ? `${text} Without an approval the claim lapses on ${verdict.claim.expiresAt.slice(0, 10)}.` : text,
      };
    case 'duplicate': {
      const priorId = verdict.collidesWith?.referralId;
      const prior = priorId
        ? await callReferloop<{ referrer: { name: string; email: string } }>(`/referrals/${encodeURIComponent(priorId)}`, { portalId })
        : null;
      const whom = prior?.ok ? `${prior.body.referrer.name} (${prior.body.referrer.email})` : null;
      return { tone: 'warning', title: whom ? `Duplicate of ${whom}'s referral` : 'Duplicate referral', text };
    }
    case 'conflict': {
      const deal = verdict.collidesWith?.dealId;
      const owner = verdict.collidesWith?.ownerName;
      return {
        tone: 'danger',
        title: deal ? `Conflict with deal ${deal}${owner ? ` (owner ${owner})` : ''}` : 'Conflict',
        text,
      };
    }
    case 'choose_deal':
      return { tone: 'info', title: 'Choose the deal this referral claims', text };
    case 'ineligible':
      return { tone: 'danger', title: 'Referrer not eligible', text };
    case 'invalid':
      return { tone: 'danger', title: 'Not logged', text };
  }
}
