import { useState } from 'react';
import { consoleApi, formatDateTime } from '../api.ts';
import { useLoad } from '../app.tsx';
import { EligibilityFieldsEditor } from './program/eligibility.tsx';
import { ProgramEditor } from './program/editor.tsx';
import { ScrollArea } from './scroll-area.tsx';
import { StageMappingEditor } from './stage-mapping.tsx';

/** Every program setting in words and amounts (program/), a live preview against the current version, the stage mapping, the eligibility fields, and the versions. */
export function ProgramPage({ installationId, csrf }: { installationId: string; csrf: string }) {
  const [version, setVersion] = useState(0);
  const { data, error } = useLoad(async () => {
    const [document, versions] = await Promise.all([consoleApi.program(installationId), consoleApi.programVersions(installationId)]);
    return { document, versions: versions.items };
  }, `${installationId}:${version}`);
  if (error) return <p className="notice bad">The program could not be read: {error}</p>;
  if (!data) return <p>Loading the program…</p>;
  return (
    <>
      <ProgramEditor
        key={data.document.version}
        installationId={installationId}
        csrf={csrf}
        document={data.document}
        onSaved={() => setVersion((v) => v + 1)}
      />
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
                  <td className="break">{v.createdBy}</td>
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
