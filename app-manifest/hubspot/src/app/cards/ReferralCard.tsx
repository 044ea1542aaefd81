import React, { useCallback, useEffect, useState } from 'react';
import {
  Alert, Button, Divider, EmptyState, Flex, Form, Heading, Input, LoadingSpinner, Select, StatusTag, Text, TextArea, hubspot,
} from '@hubspot/ui-extensions';

// Must be listed in app-hsmeta.json permittedUrls.fetch (HTTPS, no localhost; local.json maps it in `hs project dev`).
const API = 'https://referloop.example.com/api/v1';

type Verdict = {
  outcome: 'accepted' | 'duplicate' | 'conflict' | 'claim_pending' | 'choose_deal' | 'ineligible' | 'invalid';
  reasons: string[];
  deals?: { id: string; name: string | null; stage: string; ownerName: string | null }[];
};
type Referral = { id: string; status: string; referrer: { name: string; email: string }; referee: { email: string }; rewards?: { amount: number; currency: string; status: string }[] };

const TYPES = ['customer', 'partner', 'consultant', 'advisor', 'employee'].map((value) => ({ label: value[0].toUpperCase() + value.slice(1), value }));
const TONE: Record<string, 'default' | 'info' | 'success' | 'warning' | 'danger'> = {
  closed_won: 'success', closed_lost: 'danger', rejected: 'danger', expired: 'warning', in_sales_process: 'info', qualified: 'info', claim_pending: 'warning',
};

// hubspot.fetch signs each request (X-HubSpot-Signature-v3); the portal and record go in the URL/body, which the signature covers.
hubspot.extend<'crm.record.tab'>(({ context, actions }) => <ReferralCard context={context} actions={actions} />);

function ReferralCard({ context, actions }: { context: any; actions: any }) {
  const record = { portalId: String(context.portal.id), objectTypeId: String(context.crm.objectTypeId), objectId: String(context.crm.objectId) };
  const [referrals, setReferrals] = useState<Referral[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [form, setForm] = useState({ referrerName: '', referrerEmail: '', referrerType: 'customer', refereeEmail: '', notes: '' });
  const [saving, setSaving] = useState(false);
  // Several open deals and none named: the rep picks the one the referral claims.
  const [deals, setDeals] = useState<NonNullable<Verdict['deals']>>([]);
  const [dealId, setDealId] = useState('');

  const load = useCallback(async () => {
    const query = new URLSearchParams({ crm: 'hubspot', ...record }).toString();
    const response = await hubspot.fetch(`${API}/referrals?${query}`, { method: 'GET' });
    if (!response.ok) return setError('Referloop is not reachable right now.');
    setReferrals((await response.json()).items ?? []);
  }, [record.objectId]);

  useEffect(() => {
    load();
    // On a contact, the contact is the referee.
    if (record.objectTypeId === '0-1') {
      actions.fetchCrmObjectProperties(['email']).then((p: { email?: string }) => setForm((f) => ({ ...f, refereeEmail: p.email ?? '' })));
    }
  }, [load]);

  const submit = async () => {
    setSaving(true);
    setError(null);
    const response = await hubspot.fetch(`${API}/referrals`, {
      method: 'POST',
      body: {
        crm: 'hubspot',
        ...record,
        referrer: { name: form.referrerName, email: form.referrerEmail, type: form.referrerType },
        referee: { email: form.refereeEmail },
        notes: form.notes || undefined,
        // On a deal record the referral claims this deal; elsewhere, the deal the rep picked.
        ...(record.objectTypeId === '0-3' ? { deal: { id: record.objectId } } : dealId ? { deal: { id: dealId } } : {}),
        submittedBy: { kind: 'rep', id: String(context.user.id), name: [context.user.firstName, context.user.lastName].filter(Boolean).join(' ') || undefined },
      },
    });
    setSaving(false);
    // A card gets every verdict with a 2xx status (hubspot.fetch hides the body of any other answer).
    const body = await response.json().catch(() => null);
    const verdict: Verdict | undefined = body?.verdict;
    if (!response.ok || !verdict) return setError(body?.error?.message ?? 'The referral was not logged.');
    setDeals(verdict.outcome === 'choose_deal' ? (verdict.deals ?? []) : []);
    if (verdict.outcome === 'accepted' || verdict.outcome === 'claim_pending') {
      actions.addAlert({ type: verdict.outcome === 'accepted' ? 'success' : 'info', message: verdict.reasons.join(' ') });
      setForm((f) => ({ ...f, referrerName: '', referrerEmail: '', notes: '' }));
      setDealId('');
      return load();
    }
    setError(verdict.reasons.join(' '));
  };

  if (referrals === null && !error) return <LoadingSpinner label="Loading referrals" />;
  return (
    <Flex direction="column" gap="md">
      {error && <Alert title="Referloop" variant="error">{error}</Alert>}
      <Heading>Referrals</Heading>
      {referrals?.length ? (
        referrals.map((r) => (
          <Flex key={r.id} direction="row" gap="sm" align="center">
            <StatusTag variant={TONE[r.status] ?? 'default'}>{r.status.replace(/_/g, ' ')}</StatusTag>
            <Text>{r.referee.email} — referred by {r.referrer.name} ({r.referrer.email})</Text>
            {r.rewards?.map((w, i) => <Text key={i} variant="microcopy">{`${w.amount} ${w.currency} · ${w.status}`}</Text>)}
          </Flex>
        ))
      ) : (
        <EmptyState title="No referrals yet" layout="vertical"><Text>Log who referred this record below.</Text></EmptyState>
      )}
      <Divider />
      <Form onSubmit={submit}>
        <Flex direction="column" gap="sm">
          <Input name="referrerName" label="Referrer name" required value={form.referrerName} onChange={(v) => setForm({ ...form, referrerName: v })} />
          <Input name="referrerEmail" label="Referrer email" required value={form.referrerEmail} onChange={(v) => setForm({ ...form, referrerEmail: v })} />
          <Select name="referrerType" label="Referrer type" options={TYPES} value={form.referrerType} onChange={(v) => setForm({ ...form, referrerType: String(v) })} />
          <Input name="refereeEmail" label="Referred person's email" required value={form.refereeEmail} onChange={(v) => setForm({ ...form, refereeEmail: v })} />
          <TextArea name="notes" label="Notes" value={form.notes} onChange={(v) => setForm({ ...form, notes: v })} />
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
          <Button type="submit" variant="primary" disabled={saving}>{saving ? 'Logging…' : 'Log referral'}</Button>
        </Flex>
      </Form>
    </Flex>
  );
}
