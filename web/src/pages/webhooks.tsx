import { type FormEvent, useEffect, useState } from 'react';
import { api, type WebhookEndpoint } from '../api.ts';

/** Endpoints that receive signed notifications, for partners who want them by machine. */
export function WebhookEndpoints({ installationId, csrf }: { installationId: string; csrf: string }) {
  const [items, setItems] = useState<WebhookEndpoint[] | null>(null);
  const [url, setUrl] = useState('');
  const [created, setCreated] = useState<{ url: string; secret: string } | null>(null);
  const [error, setError] = useState<string | null>(null);

  const reload = () =>
    api.endpoints(installationId).then(
      (r) => setItems(r.items),
      (e: unknown) => setError(e instanceof Error ? e.message : String(e)),
    );
  // biome-ignore lint/correctness/useExhaustiveDependencies: loads once per installation
  useEffect(() => {
    void reload();
  }, [installationId]);

  async function add(e: FormEvent) {
    e.preventDefault();
    setError(null);
    try {
      const endpoint = await api.addEndpoint(installationId, csrf, url);
      setCreated({ url: endpoint.url, secret: endpoint.secret });
      setUrl('');
      await reload();
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : String(failure));
    }
  }

  async function remove(id: string) {
    await api.removeEndpoint(installationId, csrf, id);
    await reload();
  }

  return (
    <section className="card" aria-labelledby="webhooks">
      <h2 id="webhooks">Webhook endpoints</h2>
      <p>For partners whose systems should hear of each step: we POST a signed JSON message to these addresses.</p>
      {items && items.length > 0 && (
        <ul className="endpoints">
          {items.map((e) => (
            <li key={e.id}>
              <code>{e.url}</code> <span className="muted">{e.status === 'enabled' ? 'active' : 'disabled after failures'}</span>{' '}
              <button type="button" className="secondary" onClick={() => void remove(e.id)} aria-label={`Remove ${e.url}`}>
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
      <form onSubmit={add} className="grid">
        <label htmlFor="endpoint-url">Endpoint URL</label>
        <input id="endpoint-url" type="url" required value={url} onChange={(e) => setUrl(e.target.value)} placeholder="https://" />
        <button type="submit">Add endpoint</button>
      </form>
      {created && (
        <p role="status" className="notice ok">
          Added {created.url}. Its signing secret, shown only now: <code className="secret">{created.secret}</code>
        </p>
      )}
      {error && <p className="notice bad">{error}</p>}
    </section>
  );
}
