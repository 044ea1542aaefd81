import {
  Alert,
  DescriptionList,
  DescriptionListItem,
  Divider,
  EmptyState,
  Flex,
  Heading,
  hubspot,
  LoadingSpinner,
  StatusTag,
  Text,
  useExtensionContext,
} from '@hubspot/ui-extensions';
import { useEffect, useState } from 'react';
import { callReferloop, formatDay, formatMoney, OBJECT_TYPE, words } from './referloop.ts';

type Evidence =
  | { via: 'contact' | 'company' | 'domain'; id: string }
  | { via: 'claim'; id: string; by: string; at: string; approvedBy: string };

/** What the deal card reads of GET /referrals for a deal (the referrals linked to it, in full). */
interface DealReferral {
  id: string;
  status: string;
  referrer: { name: string; email: string; type: string };
  referee: { email: string };
  attributions: { dealId: string; share: number; role: string; model: string; status: string; evidence: Evidence[]; reasons: string[] }[];
  rewards: {
    id: string;
    dealId: string | null;
    kind: string;
    milestone: string;
    amount: number;
    currency: string;
    status: string;
    dueDate: string | null;
    grant: { kind: string };
    givenAs: string;
  }[];
  claim: { dealId: string; decision: string | null; expiresAt: string } | null;
  decisions: { attribution: { dealId: string; summary: string }[] };
}

hubspot.extend<'crm.record.tab'>(() => <DealReferralCard />);

/**
 * *Referral and reward* on deals: who referred the deal, the share credited to them, the evidence
 * and reasons, and each reward's amount, status, due date and what it is given as.
 */
export function DealReferralCard() {
  const context = useExtensionContext<'crm.record.tab'>();
  const portalId = String(context.portal.id);
  const dealId = String(context.crm.objectId);
  const [referrals, setReferrals] = useState<DealReferral[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);

  useEffect(() => {
    void callReferloop<{ items: DealReferral[] }>('/referrals', {
      portalId,
      query: { crm: 'hubspot', objectTypeId: OBJECT_TYPE.deal, objectId: dealId },
    }).then((answer) => {
      if (answer.ok) setReferrals(answer.body.items);
      else setLoadError(answer.message);
    });
  }, [portalId, dealId]);

  if (loadError)
    return (
      <Alert title="Referral not loaded" variant="error">
        {loadError}
      </Alert>
    );
  if (!referrals) return <LoadingSpinner label="Loading the deal's referral" />;
  if (referrals.length === 0)
    return (
      <EmptyState title="No referral on this deal" layout="vertical">
        <Text>Log one with the Log a referral card: on a deal it claims the deal.</Text>
      </EmptyState>
    );
  return (
    <Flex direction="column" gap="md">
      {referrals.map((referral, i) => (
        <Flex key={referral.id} direction="column" gap="sm">
          {i > 0 && <Divider />}
          <ReferralOnDeal referral={referral} dealId={dealId} />
        </Flex>
      ))}
    </Flex>
  );
}

function ReferralOnDeal({ referral, dealId }: { referral: DealReferral; dealId: string }) {
  const attribution = referral.attributions.find((a) => a.dealId === dealId && a.status === 'active');
  const decision = referral.decisions.attribution.find((d) => d.dealId === dealId);
  const rewards = referral.rewards.filter((r) => r.dealId === dealId || r.dealId === null);
  const claim = referral.claim?.dealId === dealId ? referral.claim : null;
  return (
    <Flex direction="column" gap="sm">
      <Heading>{`Referred by ${referral.referrer.name}`}</Heading>
      <DescriptionList direction="row">
        <DescriptionListItem label="Referrer">
          <Text>{`${referral.referrer.name} (${referral.referrer.email}), ${referral.referrer.type}`}</Text>
        </DescriptionListItem>
        <DescriptionListItem label="Referral">
          <Text>{`${referral.referee.email}: ${words(referral.status)}`}</Text>
        </DescriptionListItem>
        <DescriptionListItem label="Attribution share">
          <Text>
            {attribution
              ? `${formatShare(attribution.share)} (${attribution.role}, ${words(attribution.model)})`
              : claim && claim.decision === null
                ? `none yet: the claim on this deal waits for approval until ${formatDay(claim.expiresAt)}`
                : 'not attributed'}
          </Text>
        </DescriptionListItem>
      </DescriptionList>
      {attribution && <Text>{`Evidence: ${attribution.evidence.map(describeEvidence).join('; ')}.`}</Text>}
      {(decision || attribution) && <Text>{decision?.summary ?? `Reasons: ${attribution!.reasons.join('; ')}.`}</Text>}
      {rewards.length === 0 ? (
        <Text>No reward yet.</Text>
      ) : (
        rewards.map((r) => (
          <Flex key={r.id} direction="row" gap="sm" align="center">
            <StatusTag variant={REWARD_TONE[r.status] ?? 'default'}>{words(r.status)}</StatusTag>
            <Text>{`${words(r.kind)} reward at ${words(r.milestone)}: ${rewardValue(r)}, due ${formatDay(r.dueDate)}`}</Text>
          </Flex>
        ))
      )}
    </Flex>
  );
}

/** Cash is its amount; recognition is the badge, having none; anything else is both. */
function rewardValue(reward: DealReferral['rewards'][number]): string {
  if (reward.grant.kind === 'recognition') return reward.givenAs;
  const amount = formatMoney(reward.amount, reward.currency);
  return reward.grant.kind === 'cash' ? amount : `${amount} (${reward.givenAs})`;
}

const REWARD_TONE: Record<string, 'default' | 'info' | 'success' | 'warning' | 'danger'> = {
  pending: 'warning',
  needs_rate: 'warning',
  approved: 'info',
  payable: 'info',
  paid: 'success',
  rejected: 'danger',
  reversed: 'danger',
};

/** A share of the deal's credit, e.g. 0.5 → "50%". */
function formatShare(share: number): string {
  return `${Math.round(share * 10_000) / 100}%`;
}

function describeEvidence(e: Evidence): string {
  if (e.via === 'claim') return `claimed by ${e.by} on ${formatDay(e.at)}, approved by ${e.approvedBy}`;
  if (e.via === 'contact') return `the deal's contact ${e.id} is the person referred`;
  if (e.via === 'company') return `the deal's company ${e.id} is the referred person's company`;
  return `the deal's domain ${e.id} is the referred person's email domain`;
}
