// The pages: one function per route, each reading the live snapshot.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { DashboardSnapshot, ResourceRow } from '../../api/dashboard.ts';
import { Chart } from './chart.tsx';
import { Badge, field, metrics, name, Section, Table, Timeline } from './widgets.tsx';

type Page = (props: { s: DashboardSnapshot }) => preact.JSX.Element;

const COLORS = ['#2563eb', '#dc2626', '#059669', '#d97706', '#7c3aed'];

function rows(s: DashboardSnapshot, kind: string): ResourceRow[] {
  return s.resources[kind] ?? [];
}

function series(s: DashboardSnapshot, r: ResourceRow, key: string): [number, number][] {
  return s.series[r.key]?.[key] ?? [];
}

function last(points: [number, number][]): string {
  const p = points[points.length - 1];
  return p === undefined ? '–' : String(Math.round(p[1] * 1000) / 1000);
}

export const Overview: Page = ({ s }) => {
  const kinds = Object.keys(s.resources).sort();
  const all = kinds.flatMap((k) => rows(s, k));
  return (
    <>
      <Section title="Nodes">
        <Table caption={`${s.nodes.filter((n) => n.ready).length} of ${s.nodes.length} nodes Ready`} head={['Node', 'Ready', 'Roles', 'Reason']} empty="no nodes" rows={s.nodes.map((n) => [n.name, <Badge text={n.ready ? 'Ready' : 'NotReady'} />, n.roles.join(', '), n.reason ?? ''])} />
      </Section>
      <Section title="Sedna resources">
        <Table caption={`${all.length} resources`} head={['Kind', 'Name', 'Phase', 'Stage', 'Last condition']} empty="no Sedna resources yet" rows={all.map((r) => [r.kind, name(r), <Badge text={r.phase} />, r.stage ?? '', r.conditions[r.conditions.length - 1]?.message ?? ''])} />
      </Section>
      <Section title="Pods">
        <Table caption={`${s.pods.length} pods`} head={['Pod', 'Node', 'Phase', 'Restarts']} empty="no pods" rows={s.pods.map((p) => [`${p.namespace}/${p.name}`, p.node, <Badge text={p.phase} />, String(p.restarts)])} />
      </Section>
    </>
  );
};

export const JointInference: Page = ({ s }) => {
  const services = rows(s, 'JointInferenceService');
  if (services.length === 0) return <p class="muted">No JointInferenceService yet.</p>;
  return (
    <>
      {services.map((r) => {
        const m = metrics(r);
        const inferences = series(s, r, 'inferences');
        const hard = series(s, r, 'hardExamples');
        const share = series(s, r, 'offloadShare');
        const failures = series(s, r, 'cloudFailures');
        return (
          <Section title={`JointInferenceService ${name(r)}`}>
            <p>
              <Badge text={r.phase} /> inferences <output data-counter="inferences">{m.inferenceNumber ?? '0'}</output> · hard examples <output data-counter="hardExamples">{m.hardExampleNumber ?? '0'}</output> · offload share{' '}
              <output data-counter="offloadShare">{last(share)}</output> · cloud failures <output data-counter="cloudFailures">{m.cloudFailureNumber ?? '0'}</output>
            </p>
            <div class="charts">
              <Chart title="Inferences and hard examples" x="time" summary={`${inferences.length} points`} lines={[{ label: 'inferences', points: inferences, color: COLORS[0]! }, { label: 'hard examples', points: hard, color: COLORS[1]! }]} />
              <Chart title="Offload share" x="time" summary={`latest ${last(share)}`} lines={[{ label: 'offload share', points: share, color: COLORS[2]! }]} />
              <Chart title="Cloud failures" x="time" summary={`latest ${last(failures)}`} lines={[{ label: 'cloud failures', points: failures, color: COLORS[3]! }]} />
            </div>
            <Timeline conditions={r.conditions} />
          </Section>
        );
      })}
    </>
  );
};

export const FederatedLearning: Page = ({ s }) => {
  const jobs = rows(s, 'FederatedLearningJob');
  if (jobs.length === 0) return <p class="muted">No FederatedLearningJob yet.</p>;
  return (
    <>
      {jobs.map((r) => {
        const accuracy = series(s, r, 'accuracy');
        const loss = series(s, r, 'loss');
        const clients = series(s, r, 'clients');
        const bytes = series(s, r, 'bytes');
        return (
          <Section title={`FederatedLearningJob ${name(r)}`}>
            <p>
              <Badge text={r.phase} /> round <output data-counter="round">{field(r, 'round', '0')}</output> · active {field(r, 'active', '0')} · succeeded {field(r, 'succeeded', '0')} · failed {field(r, 'failed', '0')}
            </p>
            <div class="charts">
              <Chart title="Accuracy and loss per round" x="round" summary={`${accuracy.length} rounds`} lines={[{ label: 'accuracy', points: accuracy, color: COLORS[0]! }, { label: 'loss', points: loss, color: COLORS[1]! }]} />
              <Chart title="Clients per round" x="round" summary={`latest ${last(clients)}`} lines={[{ label: 'clients', points: clients, color: COLORS[2]! }]} />
              <Chart title="Bytes sent per round" x="round" summary={`latest ${last(bytes)}`} lines={[{ label: 'bytes', points: bytes, color: COLORS[3]! }]} />
            </div>
            <Timeline conditions={r.conditions} />
          </Section>
        );
      })}
    </>
  );
};

function KnowledgeBase({ r }: { r: ResourceRow }) {
  const kb = r.status.knowledgeBase as { AIModels?: { numberOfAIModels?: number; listOfAIModels?: { modelID: string; averagePrecision: number; numberOfTrainSamples: number }[] }; AIClasses?: { numberOfAIClasses?: number; listOfAIClasses?: string[] }; samples?: { numberOfUnseenSample?: number; numberOfLabeledUnseenSample?: number } } | undefined;
  if (!kb) return <p class="muted">the knowledge base has reported nothing yet</p>;
  return (
    <>
      <p>
        tasks (classes) {kb.AIClasses?.numberOfAIClasses ?? 0} · models {kb.AIModels?.numberOfAIModels ?? 0} · unseen samples {kb.samples?.numberOfUnseenSample ?? 0} (labelled {kb.samples?.numberOfLabeledUnseenSample ?? 0})
      </p>
      <Table caption="Knowledge base models" head={['Model', 'Average precision', 'Train samples']} empty="no models" rows={(kb.AIModels?.listOfAIModels ?? []).map((m) => [m.modelID, String(m.averagePrecision), String(m.numberOfTrainSamples)])} />
    </>
  );
}

export const Learning: Page = ({ s }) => {
  const jobs = [...rows(s, 'IncrementalLearningJob'), ...rows(s, 'LifelongLearningJob')];
  if (jobs.length === 0) return <p class="muted">No IncrementalLearningJob or LifelongLearningJob yet. Their stages (Train, Eval, Deploy) appear here as the controllers write them.</p>;
  return (
    <>
      {jobs.map((r) => (
        <Section title={`${r.kind} ${name(r)}`}>
          <p>
            <Badge text={r.phase} /> stage {r.stage ?? '–'} · cycles {r.conditions.filter((c) => c.stage === 'Train' && c.type === 'Completed').length}
          </p>
          <Timeline conditions={r.conditions} />
          {r.kind === 'LifelongLearningJob' ? <KnowledgeBase r={r} /> : null}
        </Section>
      ))}
    </>
  );
};

export const Data: Page = ({ s }) => {
  const datasets = rows(s, 'Dataset');
  const models = rows(s, 'Model');
  return (
    <>
      <Section title="Datasets">
        <Table caption={`${datasets.length} datasets`} head={['Dataset', 'Samples', 'Updated']} empty="no datasets" rows={datasets.map((d) => [name(d), field(d, 'numberOfSamples', '0'), field(d, 'updateTime', '')])} />
        <div class="charts">
          {datasets.map((d) => {
            const samples = series(s, d, 'samples');
            return <Chart title={`Samples of ${name(d)}`} x="time" summary={`latest ${last(samples)}`} lines={[{ label: 'samples', points: samples, color: COLORS[0]! }]} />;
          })}
        </div>
      </Section>
      <Section title="Models">
        <Table caption={`${models.length} models`} head={['Model', 'Metrics', 'Updated']} empty="no models" rows={models.map((m) => [name(m), Object.entries(metrics(m)).map(([k, v]) => `${k}=${v}`).join(' '), field(m, 'updateTime', '')])} />
      </Section>
    </>
  );
};

export const Events: Page = ({ s }) => (
  <Section title="Events">
    <Table caption={`newest ${s.events.length} events`} head={['Last seen', 'Type', 'Object', 'Reason', 'Message', 'Count']} empty="no events" rows={s.events.map((e) => [e.last, <Badge text={e.type === 'Warning' ? 'Failed' : 'Normal'} />, `${e.namespace}/${e.object}`, e.reason, e.message, String(e.count)])} />
  </Section>
);

const MAX_LOG_LINES = 2000;

export const Logs: Page = ({ s }) => {
  const [choice, setChoice] = useState('');
  const [lines, setLines] = useState<string[]>([]);
  const [state, setState] = useState('');
  const pre = useRef<HTMLPreElement>(null);
  const options = s.pods.flatMap((p) => p.containers.map((c) => `${p.namespace}/${p.name}/${c}`));
  useEffect(() => {
    if (!choice) return;
    const [namespace, pod, container] = choice.split('/');
    setLines([]);
    setState('following');
    const source = new EventSource(`/api/logs?${new URLSearchParams({ namespace: namespace!, pod: pod!, container: container!, tailLines: '200' })}`);
    source.addEventListener('line', (e) => setLines((l) => [...l, JSON.parse((e as MessageEvent<string>).data) as string].slice(-MAX_LOG_LINES)));
    source.addEventListener('end', (e) => {
      const { error } = JSON.parse((e as MessageEvent<string>).data) as { error?: string };
      setState(error ? `ended: ${error}` : 'ended');
      source.close();
    });
    return () => source.close();
  }, [choice]);
  useEffect(() => {
    if (pre.current) pre.current.scrollTop = pre.current.scrollHeight;
  }, [lines]);
  return (
    <Section title="Logs">
      <label>
        Container{' '}
        <select value={choice} onChange={(e) => setChoice((e.target as HTMLSelectElement).value)}>
          <option value="">choose a pod's container…</option>
          {options.map((o) => <option value={o}>{o}</option>)}
        </select>
      </label>{' '}
      <span class="muted" role="status">{state}</span>
      <pre ref={pre} class="log" tabIndex={0} aria-label="log output" aria-live="polite">{lines.join('\n')}</pre>
    </Section>
  );
};
