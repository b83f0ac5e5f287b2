// The pages: one function per route, each reading the live snapshot.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { CycleStage, DashboardSnapshot, KnowledgeBaseView, LearningCycle, ResourceRow } from '../../api/dashboard.ts';
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

/** The timeline shows the newest conditions; older ones are in `kubectl get -o yaml`. */
const TIMELINE_CONDITIONS = 40;

function pct(value: number | undefined): string {
  return value === undefined ? '–' : String(Math.round(value * 10_000) / 10_000);
}

function StageCell({ stage }: { stage: CycleStage | undefined }) {
  if (!stage) return <span class="muted">–</span>;
  return (
    <span title={stage.message ?? ''}>
      <Badge text={stage.state} />
      {stage.failures > 0 ? <span class="muted"> {stage.failures} failed</span> : null}
      {stage.at ? <time class="muted"> {stage.at.slice(11, 19)}</time> : null}
    </span>
  );
}

/** Cycles newest first: each stage's latest state, the Eval metric, the outcome. */
function Cycles({ cycles, deployedColumn }: { cycles: LearningCycle[]; deployedColumn: boolean }) {
  const stage = (c: LearningCycle, name: string): CycleStage | undefined => c.stages.find((s) => s.stage === name);
  const head = ['Cycle', 'Started', 'Train', 'Eval', 'Deploy', 'Metric', deployedColumn ? 'Trained / deployed model' : 'Value', 'Outcome'];
  const rows = [...cycles].reverse().map((c) => [
    String(c.cycle),
    c.started ?? '',
    <StageCell stage={stage(c, 'Train')} />,
    <StageCell stage={stage(c, 'Eval')} />,
    <StageCell stage={stage(c, 'Deploy')} />,
    c.metric?.name ?? '',
    deployedColumn ? `${pct(c.metric?.trained)} / ${pct(c.metric?.deployed)}` : pct(c.metric?.trained),
    <span title={c.reason ?? ''}>
      <Badge text={c.outcome === 'deployed' ? 'Completed' : c.outcome === 'in progress' ? 'Running' : 'Waiting'} /> {c.outcome}
      {c.reason ? <span class="muted"> ({c.reason})</span> : null}
    </span>,
  ]);
  return <Table caption={`${cycles.length} cycles in the kept conditions, newest first`} head={head} empty="no cycle yet" rows={rows} />;
}

function CycleSummary({ r, label }: { r: ResourceRow; label: string }) {
  const cycles = r.learning?.cycles ?? [];
  const current = cycles[cycles.length - 1];
  return (
    <p>
      <Badge text={r.phase} /> stage {r.stage ?? '–'} · cycle <output data-counter={`${label}-cycle`}>{current?.cycle ?? 0}</output> · deployed{' '}
      <output data-counter={`${label}-deployed`}>{cycles.filter((c) => c.outcome === 'deployed').length}</output> of {cycles.length} kept cycles
    </p>
  );
}

function Timelines({ r }: { r: ResourceRow }) {
  const shown = r.conditions.slice(-TIMELINE_CONDITIONS);
  return (
    <details>
      <summary>Stage timeline ({shown.length} newest of {r.conditions.length} conditions)</summary>
      <Timeline conditions={shown} />
    </details>
  );
}

export const IncrementalLearning: Page = ({ s }) => {
  const jobs = rows(s, 'IncrementalLearningJob');
  if (jobs.length === 0) return <p class="muted">No IncrementalLearningJob yet. Its cycles (Train, Eval, Deploy) appear here as the controller writes them.</p>;
  return (
    <>
      {jobs.map((r) => {
        const trained = series(s, r, 'trainedMetric');
        const deployed = series(s, r, 'deployedMetric');
        const metricName = r.learning?.cycles.findLast((c) => c.metric)?.metric?.name ?? 'metric';
        return (
          <Section title={`IncrementalLearningJob ${name(r)}`}>
            <CycleSummary r={r} label="il" />
            <div class="charts">
              <Chart title="Eval metric per cycle" x="cycle" summary={`${metricName}, ${trained.length} cycles`} lines={[{ label: `trained model ${metricName}`, points: trained, color: COLORS[0]! }, { label: `deployed model ${metricName}`, points: deployed, color: COLORS[1]! }]} />
            </div>
            <Cycles cycles={r.learning?.cycles ?? []} deployedColumn={true} />
            <Timelines r={r} />
          </Section>
        );
      })}
    </>
  );
};

function KnowledgeBase({ kb }: { kb: KnowledgeBaseView | undefined }) {
  if (!kb) return <p class="muted">the knowledge base has reported nothing yet</p>;
  return (
    <>
      <p>
        task models <output data-counter="kb-models">{kb.numberOfModels}</output> · classes {kb.numberOfClasses} · unseen samples <output data-counter="kb-unseen">{kb.unseenSamples}</output> (labelled{' '}
        <output data-counter="kb-labeled">{kb.labeledUnseenSamples}</output>)
      </p>
      <Table caption={`Knowledge base task models (${kb.models.length} of ${kb.numberOfModels})`} head={['Task model', 'Average precision', 'Train samples']} empty="no models" rows={kb.models.map((m) => [m.modelID, pct(m.averagePrecision), String(m.numberOfTrainSamples)])} />
      <p class="muted">classes: {kb.classes.length > 0 ? kb.classes.join(', ') : 'none reported'}</p>
    </>
  );
}

export const LifelongLearning: Page = ({ s }) => {
  const jobs = rows(s, 'LifelongLearningJob');
  if (jobs.length === 0) return <p class="muted">No LifelongLearningJob yet. Its cycles and knowledge base appear here as the controller writes them.</p>;
  return (
    <>
      {jobs.map((r) => {
        const metric = series(s, r, 'trainedMetric');
        const metricName = r.learning?.cycles.findLast((c) => c.metric)?.metric?.name ?? 'metric';
        return (
          <Section title={`LifelongLearningJob ${name(r)}`}>
            <CycleSummary r={r} label="ll" />
            <KnowledgeBase kb={r.learning?.knowledgeBase} />
            <div class="charts">
              <Chart title="Knowledge base over time" x="time" summary={`latest ${last(series(s, r, 'kbModels'))} models`} lines={[{ label: 'task models', points: series(s, r, 'kbModels'), color: COLORS[0]! }, { label: 'unseen samples', points: series(s, r, 'unseenSamples'), color: COLORS[1]! }, { label: 'labelled unseen', points: series(s, r, 'labeledUnseenSamples'), color: COLORS[2]! }]} />
              <Chart title="Eval metric per cycle" x="cycle" summary={`${metricName}, ${metric.length} cycles`} lines={[{ label: metricName, points: metric, color: COLORS[3]! }]} />
            </div>
            <Cycles cycles={r.learning?.cycles ?? []} deployedColumn={false} />
            <Timelines r={r} />
          </Section>
        );
      })}
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
