import {
  Alert,
  Button,
  Divider,
  Flex,
  Heading,
  hubspot,
  LoadingSpinner,
  StatusTag,
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableHeader,
  TableRow,
  Text,
  TextArea,
  useExtensionContext,
} from '@hubspot/ui-extensions';
import { useEffect, useState } from 'react';
import { callReferloop } from './referloop.ts';

/** GET /accounts/:companyId/eligibility: every enabled rule of the program, with the value it saw. */
interface Eligibility {
  eligible: boolean;
  summary: string;
  reasons: { rule: string; passed: boolean; detail: string }[];
  evaluatedAt: string;
}

/** POST /accounts/:companyId/asks, as a card gets it: the ask sent, or refused with its reasons. */
interface AskAnswer {
  id: string | null;
  status: 'sent' | 'refused';
  champion?: { email: string | null; name: string | null } | null;
  reasons: string[];
}

const RULE_NAMES: Record<string, string> = {
  min_nps: 'NPS',
  min_customer_days: 'Customer tenure',
  min_health_score: 'Health score',
  lifecycle_stage: 'Lifecycle stage',
  no_open_escalation: 'Escalations',
};

hubspot.extend<'crm.record.tab'>(() => <EligibilityCard />);

/**
 * *Referral eligibility* on companies: eligible or not, each rule passed or failed with the value
 * seen, when it was evaluated, and *Ask for a referral*, signed by the HubSpot user asking.
 */
export function EligibilityCard() {
  const context = useExtensionContext<'crm.record.tab'>();
  const portalId = String(context.portal.id);
  const companyId = String(context.crm.objectId);
  const [eligibility, setEligibility] = useState<Eligibility | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [message, setMessage] = useState('');
  const [asking, setAsking] = useState(false);
  const [ask, setAsk] = useState<{ tone: 'success' | 'error'; title: string; text: string } | null>(null);
  // One key per card view: a second click while the first is on its way sends no second email.
  const [idempotencyKey] = useState(() => `hubspot-card:${portalId}:${companyId}:${context.user.id}:${Date.now()}`);

  useEffect(() => {
    void callReferloop<Eligibility>(`/accounts/${encodeURIComponent(companyId)}/eligibility`, { portalId }).then((answer) => {
      if (answer.ok) setEligibility(answer.body);
      else setLoadError(answer.message);
    });
  }, [portalId, companyId]);

  const askForReferral = async () => {
    setAsking(true);
    setAsk(null);
    const asker = [context.user.firstName, context.user.lastName].filter(Boolean).join(' ') || context.user.email;
    const answer = await callReferloop<AskAnswer>(`/accounts/${encodeURIComponent(companyId)}/asks`, {
      portalId,
      body: { askedBy: { name: asker, email: context.user.email }, ...(message.trim() ? { message: message.trim() } : {}), idempotencyKey },
    });
    setAsking(false);
    if (!answer.ok) setAsk({ tone: 'error', title: 'Ask not sent', text: answer.message });
    else if (answer.body.status === 'sent') {
      const { champion } = answer.body;
      const to = champion ? `${champion.name ?? champion.email} (${champion.email})` : 'the champion';
      setAsk({ tone: 'success', title: 'Ask sent', text: `Referral ask sent to ${to}, signed by ${asker}.` });
    } else setAsk({ tone: 'error', title: 'Ask refused', text: `Not sent: ${answer.body.reasons.join('; ')}.` });
  };

  if (loadError)
    return (
      <Alert title="Eligibility not loaded" variant="error">
        {loadError}
      </Alert>
    );
  if (!eligibility) return <LoadingSpinner label="Evaluating eligibility" />;
  return (
    <Flex direction="column" gap="md">
      <Flex direction="row" gap="sm" align="center">
        <StatusTag variant={eligibility.eligible ? 'success' : 'danger'}>{eligibility.eligible ? 'Eligible' : 'Not eligible'}</StatusTag>
        <Text>{eligibility.summary}</Text>
      </Flex>
      <Table>
        <TableHead>
          <TableRow>
            <TableHeader>Rule</TableHeader>
            <TableHeader>Result</TableHeader>
            <TableHeader>Value seen</TableHeader>
          </TableRow>
        </TableHead>
        <TableBody>
          {eligibility.reasons.map((r) => (
            <TableRow key={r.rule}>
              <TableCell>{RULE_NAMES[r.rule] ?? r.rule}</TableCell>
              <TableCell>
                <StatusTag variant={r.passed ? 'success' : 'danger'}>{r.passed ? 'Pass' : 'Fail'}</StatusTag>
              </TableCell>
              <TableCell>{r.detail}</TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
      <Text variant="microcopy">{`Last evaluated ${eligibility.evaluatedAt.replace('T', ' ').slice(0, 16)} UTC`}</Text>
      <Divider />
      <Heading>Ask for a referral</Heading>
      <TextArea name="message" label="A personal line for the champion (optional)" value={message} onChange={(v) => setMessage(v)} />
      <Button variant="primary" disabled={asking} onClick={() => void askForReferral()}>
        {asking ? 'Asking…' : 'Ask for a referral'}
      </Button>
      {ask && (
        <Alert title={ask.title} variant={ask.tone}>
          {ask.text}
        </Alert>
      )}
    </Flex>
  );
}
