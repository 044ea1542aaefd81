import { api } from '../api.ts';
import { useLoad } from '../app.tsx';

/** The referrer's link to share, when the program has links, and per link its clicks, sign-ups and deals. */
export function ShareLink({ installationId }: { installationId: string }) {
  const { data } = useLoad(() => api.links(installationId), `links:${installationId}`);
  const links = data?.items ?? [];
  const current = links.find((l) => !l.revokedAt);
  if (links.length === 0) return null;
  return (
    <section className="card" aria-labelledby="share-link">
      <h2 id="share-link">Your referral link</h2>
      {current && (
        <p>
          Share it: whoever signs up through it is referred by you. <code>{current.url}</code>
        </p>
      )}
      <table>
        <thead>
          <tr>
            <th scope="col">Link</th>
            <th scope="col">Clicks</th>
            <th scope="col">Sign-ups</th>
            <th scope="col">Deals</th>
          </tr>
        </thead>
        <tbody>
          {links.map((l) => (
            <tr key={l.code}>
              <td>
                <code>{l.code}</code>
                {l.revokedAt && <span className="muted"> (retired)</span>}
              </td>
              <td>{l.clicks}</td>
              <td>{l.signUps}</td>
              <td>{l.deals}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
