import { type FormEvent, useState } from 'react';
import { consoleApi, type Pipeline } from '../api.ts';
import { useLoad } from '../app.tsx';
import { ScrollArea } from './scroll-area.tsx';

const STEPS = [
  ['', 'Not mapped'],
  ['contacted', 'Contacted'],
  ['qualified', 'Qualified'],
  ['in_sales_process', 'In the sales process'],
] as const;

type Mapping = Record<string, Record<string, string>>;

const mappingOf = (pipelines: Pipeline[]): Mapping =>
  Object.fromEntries(
    pipelines.map((p) => [
      p.id,
      Object.fromEntries([...p.stages.flatMap((s) => (s.step ? [[s.id, s.step]] : [])), ...p.unknownStages.map((s) => [s.id, s.step])]),
    ]),
  );

/**
 * Which lifecycle step each open stage of each pipeline means, by the CRM's stage labels, read live.
 * Won and lost come from the CRM's own stages. A mapped stage the CRM no longer has is shown so it can
 * be unmapped: the API refuses a mapping that keeps it, and its reason is shown here.
 */
export function StageMappingEditor({ installationId, csrf }: { installationId: string; csrf: string }) {
  const [version, setVersion] = useState(0);
  // Each load carries its version: after a save, the form waits for the pipelines read after it
  // rather than saying "saved" over the ones read before.
  const { data, error } = useLoad(
    () => consoleApi.pipelines(installationId).then((read) => ({ ...read, version })),
    `${installationId}:${version}`,
  );
  if (error) return <p className="notice bad">The CRM's pipelines could not be read: {error}</p>;
  if (data?.version !== version) return <p>Loading the CRM's pipelines…</p>;
  return (
    <MappingForm
      key={version}
      installationId={installationId}
      csrf={csrf}
      pipelines={data.pipelines}
      saved={version > 0}
      onSaved={() => setVersion((v) => v + 1)}
    />
  );
}

function MappingForm(props: { installationId: string; csrf: string; pipelines: Pipeline[]; saved: boolean; onSaved: () => void }) {
  const [mapping, setMapping] = useState(() => mappingOf(props.pipelines));
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(
    props.saved ? { ok: true, text: 'The stage mapping is saved.' } : null,
  );
  const set = (pipelineId: string, stageId: string, step: string) =>
    setMapping((m) => {
      const pipeline = { ...m[pipelineId] };
      if (step) pipeline[stageId] = step;
      else delete pipeline[stageId];
      return { ...m, [pipelineId]: pipeline };
    });
  const save = async (e: FormEvent) => {
    e.preventDefault();
    try {
      await consoleApi.saveStageMapping(props.installationId, props.csrf, mapping);
      props.onSaved();
    } catch (err) {
      setMessage({ ok: false, text: `Not saved: ${err instanceof Error ? err.message : String(err)}` });
    }
  };
  const select = (pipeline: Pipeline, stageId: string, label: string) => (
    <select
      id={`stage-${pipeline.id}-${stageId}`}
      aria-label={`${pipeline.label}: ${label}`}
      value={mapping[pipeline.id]?.[stageId] ?? ''}
      onChange={(e) => set(pipeline.id, stageId, e.target.value)}
    >
      {STEPS.map(([value, text]) => (
        <option key={value} value={value}>
          {text}
        </option>
      ))}
    </select>
  );
  return (
    <form className="card" onSubmit={save} aria-labelledby="stages-heading">
      <h2 id="stages-heading">Stage mapping</h2>
      <p>What each open deal stage means for a referral. Closed won and closed lost come from the CRM's own stages.</p>
      {props.pipelines.map((pipeline) => (
        <ScrollArea key={pipeline.id} label={`${pipeline.label} stages`}>
          <table>
            <caption>{pipeline.label}</caption>
            <thead>
              <tr>
                <th scope="col">Stage</th>
                <th scope="col">Means</th>
              </tr>
            </thead>
            <tbody>
              {pipeline.stages.map((stage) => (
                <tr key={stage.id}>
                  <td>{stage.label}</td>
                  <td>
                    {stage.isClosed || stage.isWon
                      ? stage.isWon
                        ? 'Closed won (from the CRM)'
                        : 'Closed lost (from the CRM)'
                      : select(pipeline, stage.id, stage.label)}
                  </td>
                </tr>
              ))}
              {pipeline.unknownStages.map((stage) => (
                <tr key={stage.id}>
                  <td className="wrap">
                    <span className="state-bad">Not in the CRM any more:</span> {stage.id}
                  </td>
                  <td>{select(pipeline, stage.id, stage.id)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollArea>
      ))}
      <p className={message ? `notice ${message.ok ? 'ok' : 'bad'}` : undefined} role="status">
        {message?.text}
      </p>
      <button type="submit">Save the stage mapping</button>
    </form>
  );
}
