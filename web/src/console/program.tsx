import { type FormEvent, useState } from 'react';
import { consoleApi, formatActor, formatDateTime, type NewProgramSource, type ProgramSummary } from '../api.ts';
import { useLoad } from '../app.tsx';
import { navigate } from '../router.ts';
import { EligibilityFieldsEditor } from './program/eligibility.tsx';
import { ProgramEditor } from './program/editor.tsx';
import { ProgramReferrers } from './program-referrers.tsx';
import { consolePath } from './route.ts';
import { ScrollArea } from './scroll-area.tsx';
import { StageMappingEditor } from './stage-mapping.tsx';

/** The Program page of one of the installation's programs (`?program=<id>`; the default when absent). */
const programPath = (installationId: string, programId: string) =>
  `${consolePath(installationId, 'program')}?${new URLSearchParams({ program: programId })}`;

/**
 * The installation's programs side by side: which one the page shows, and a new one. Then every
 * setting of that program in words and amounts (program/), a live preview against its current
 * version, who is in it, the installation's stage mapping and eligibility fields, and the program's versions.
 */
export function ProgramPage({ installationId, csrf, programId }: { installationId: string; csrf: string; programId: string | null }) {
  const [version, setVersion] = useState(0);
  const { data, error } = useLoad(
    async () => {
      const [document, versions, programs] = await Promise.all([
        consoleApi.program(installationId, programId),
        consoleApi.programVersions(installationId, programId),
        consoleApi.programs(installationId),
      ]);
      return { document, versions: versions.items, programs: programs.items };
    },
    `${installationId}:${programId ?? ''}:${version}`,
  );
  if (error) return <p className="notice bad">The program could not be read: {error}</p>;
  if (!data) return <p>Loading the program…</p>;
  return (
    <>
      <ProgramsCard installationId={installationId} csrf={csrf} programs={data.programs} shown={data.document.id} />
      <ProgramEditor
        key={`${data.document.id}:${data.document.version}`}
        installationId={installationId}
        csrf={csrf}
        document={data.document}
        onSaved={() => setVersion((v) => v + 1)}
      />
      <ProgramReferrers installationId={installationId} csrf={csrf} programId={data.document.id} />
      <StageMappingEditor installationId={installationId} csrf={csrf} />
      <EligibilityFieldsEditor installationId={installationId} csrf={csrf} />
      <section className="card" aria-labelledby="versions">
        <h2 id="versions">Versions</h2>
        <p>Each save is a new version; every referral keeps the version it was submitted under.</p>
        <ScrollArea label="Versions table">
          <table>
            <caption className="muted">Versions, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Version</th>
                <th scope="col">Saved</th>
                <th scope="col">By</th>
                <th scope="col">Changes from the version before</th>
              </tr>
            </thead>
            <tbody>
              {data.versions.map((v) => (
                <tr key={v.version}>
                  <td>
                    {v.version}
                    {v.version === data.document.version ? ' (current)' : ''}
                  </td>
                  <td>{formatDateTime(v.createdAt)}</td>
                  <td className="break">{formatActor(v.createdBy)}</td>
                  <td className="wrap">
                    {v.version === 1 ? (
                      'The first version'
                    ) : v.changes.length ? (
                      <ul className="changes">
                        {v.changes.map((change) => (
                          <li key={change}>{change}</li>
                        ))}
                      </ul>
                    ) : (
                      'No change'
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollArea>
      </section>
    </>
  );
}

/** Which program the page shows, and a new program: a copy of the default program, or a fresh install's settings. */
function ProgramsCard(props: { installationId: string; csrf: string; programs: ProgramSummary[]; shown: string }) {
  const { installationId, csrf, programs, shown } = props;
  const [name, setName] = useState('');
  const [from, setFrom] = useState<NewProgramSource>('default');
  const [problem, setProblem] = useState<string | null>(null);
  const create = async (e: FormEvent) => {
    e.preventDefault();
    if (!name.trim()) return setProblem('Give the new program a name.');
    try {
      const created = await consoleApi.createProgram(installationId, csrf, { name: name.trim(), from });
      navigate(programPath(installationId, created.id));
    } catch (err) {
      setProblem(`Not created: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  return (
    <section className="card" aria-labelledby="programs-heading">
      <h2 id="programs-heading">Programs</h2>
      <p>
        Each program has its own rules, referrer types, approvals, emails and payouts; a referral follows the program it was made in. The
        default program takes referrals that name none.
      </p>
      <div className="field">
        <label htmlFor="program-choice">Program shown</label>
        <select id="program-choice" value={shown} onChange={(e) => navigate(programPath(installationId, e.target.value))}>
          {programs.map((p) => (
            <option key={p.id} value={p.id}>
              {p.name}
              {p.isDefault ? ' (default)' : ''}
            </option>
          ))}
        </select>
      </div>
      <form className="filters two-fields" onSubmit={create} noValidate>
        <div className="field">
          <label htmlFor="new-program-name">New program’s name</label>
          <input
            id="new-program-name"
            value={name}
            aria-invalid={problem ? true : undefined}
            aria-describedby={problem ? 'new-program-problem' : undefined}
            onChange={(e) => {
              setName(e.target.value);
              setProblem(null);
            }}
          />
        </div>
        <div className="field">
          <label htmlFor="new-program-from">Start from</label>
          <select id="new-program-from" value={from} onChange={(e) => setFrom(e.target.value as NewProgramSource)}>
            <option value="default">A copy of the default program</option>
            <option value="blank">The settings of a fresh install</option>
          </select>
        </div>
        <button type="submit">Create program</button>
      </form>
      {problem && (
        <p id="new-program-problem" className="notice bad" role="alert">
          {problem}
        </p>
      )}
    </section>
  );
}
