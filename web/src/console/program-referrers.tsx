import { type FormEvent, useState } from 'react';
import { consoleApi, formatDateTime, type ProgramMember } from '../api.ts';
import { useLoad } from '../app.tsx';
import { ScrollArea } from './scroll-area.tsx';

/**
 * Who is in the program: each referrer with when they joined, removed with one button (never from
 * their last program: the server says why), and another of the installation's referrers added.
 */
export function ProgramReferrers({ installationId, csrf, programId }: { installationId: string; csrf: string; programId: string }) {
  const [version, setVersion] = useState(0);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [chosen, setChosen] = useState('');
  const { data, error } = useLoad(async () => {
    const [members, referrers] = await Promise.all([consoleApi.programReferrers(programId), consoleApi.referrers(installationId)]);
    const inProgram = new Set(members.items.map((m) => m.id));
    return { members: members.items, others: referrers.items.filter((r) => !inProgram.has(r.id)) };
  }, `${programId}:${version}`);

  const act = async (change: () => Promise<string>) => {
    try {
      setMessage({ ok: true, text: await change() });
      setChosen('');
      setVersion((v) => v + 1);
    } catch (e) {
      setMessage({ ok: false, text: e instanceof Error ? e.message : String(e) });
    }
  };
  const remove = (member: ProgramMember) =>
    act(async () => {
      const { linkRetired } = await consoleApi.removeFromProgram(csrf, programId, member.id);
      return `${member.name} was removed from this program${linkRetired ? '; their link for it is retired' : ''}.`;
    });
  const add = (e: FormEvent) => {
    e.preventDefault();
    const referrer = data?.others.find((r) => r.id === chosen);
    if (!referrer) return setMessage({ ok: false, text: 'Choose a referrer to add.' });
    return act(async () => {
      await consoleApi.addToProgram(csrf, programId, referrer.id);
      return `${referrer.name} was added to this program.`;
    });
  };

  return (
    <section className="card" aria-labelledby="program-referrers">
      <h2 id="program-referrers">Referrers in this program</h2>
      <p>
        A referrer can be referred into the programs they are in. Removed from one, they are no longer, and their link for it stops counting
        new visits; what they referred before keeps its program.
      </p>
      <p className={message ? `notice ${message.ok ? 'ok' : 'bad'}` : undefined} role="status">
        {message?.text}
      </p>
      {error && <p className="notice bad">The program’s referrers could not be read: {error}</p>}
      {!data && !error && <p>Loading the program’s referrers…</p>}
      {data && (
        <>
          {data.members.length === 0 ? (
            <p>No referrer is in this program yet.</p>
          ) : (
            <ScrollArea label="Program referrers table">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Referrer</th>
                    <th scope="col">Type</th>
                    <th scope="col">Joined</th>
                    <th scope="col">
                      <span className="visually-hidden">Remove</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {data.members.map((m) => (
                    <tr key={m.id}>
                      <td className="break">
                        <div>{m.name}</div>
                        <div className="muted">{m.email}</div>
                      </td>
                      <td>{m.type}</td>
                      <td>{formatDateTime(m.joinedAt)}</td>
                      <td>
                        <button type="button" className="secondary" aria-label={`Remove ${m.name}`} onClick={() => remove(m)}>
                          Remove
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </ScrollArea>
          )}
          {data.others.length > 0 && (
            <form className="filters two-fields" onSubmit={add} noValidate>
              <div className="field">
                <label htmlFor="add-referrer">Add a referrer of this installation</label>
                <select id="add-referrer" value={chosen} onChange={(e) => setChosen(e.target.value)}>
                  <option value="">Choose a referrer</option>
                  {data.others.map((r) => (
                    <option key={r.id} value={r.id}>
                      {`${r.name} <${r.email}>`}
                    </option>
                  ))}
                </select>
              </div>
              <button type="submit">Add to program</button>
            </form>
          )}
        </>
      )}
    </section>
  );
}
