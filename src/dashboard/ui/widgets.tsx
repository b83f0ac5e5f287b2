// Small pieces every page uses: a table, a phase badge, a condition timeline.
import type { ComponentChildren } from 'preact';
import type { ConditionRow, ResourceRow } from '../../api/dashboard.ts';

export function Table({ caption, head, rows, empty }: { caption: string; head: string[]; rows: ComponentChildren[][]; empty: string }) {
  return (
    <table>
      <caption>{caption}</caption>
      <thead>
        <tr>{head.map((h) => <th scope="col">{h}</th>)}</tr>
      </thead>
      <tbody>
        {rows.length === 0 ? (
          <tr>
            <td colSpan={head.length} class="muted">{empty}</td>
          </tr>
        ) : (
          rows.map((r) => <tr>{r.map((c) => <td>{c}</td>)}</tr>)
        )}
      </tbody>
    </table>
  );
}

const TONE: Record<string, string> = { Running: 'ok', Ready: 'ok', Succeeded: 'ok', Completed: 'ok', Complete: 'ok', True: 'ok', Failed: 'bad', NotReady: 'bad', Pending: 'warn', Waiting: 'warn', Starting: 'warn', Training: 'ok' };

export function Badge({ text }: { text: string }) {
  return <span class={`badge ${TONE[text] ?? 'neutral'}`}>{text}</span>;
}

export function Section({ title, children }: { title: string; children: ComponentChildren }) {
  return (
    <section aria-label={title}>
      <h2>{title}</h2>
      {children}
    </section>
  );
}

/** Conditions oldest first, as Sedna appends them: the stage timeline of a learning job. */
export function Timeline({ conditions }: { conditions: ConditionRow[] }) {
  if (conditions.length === 0) return <p class="muted">no conditions yet</p>;
  return (
    <ol class="timeline">
      {conditions.map((c) => (
        <li>
          <time>{c.lastTransitionTime ?? ''}</time> {c.stage ? <strong>{c.stage}</strong> : null} <Badge text={c.type} /> {c.reason ?? ''} <span class="muted">{c.message ?? ''}</span>
        </li>
      ))}
    </ol>
  );
}

export function name(r: ResourceRow): string {
  return `${r.namespace}/${r.name}`;
}

/** status.metrics as a key → value map. */
export function metrics(r: ResourceRow): Record<string, string> {
  const list = r.status.metrics;
  const out: Record<string, string> = {};
  if (Array.isArray(list)) for (const m of list as { key?: unknown; value?: unknown }[]) if (typeof m.key === 'string') out[m.key] = String(m.value);
  return out;
}

/** A scalar status field as text ('' when absent, `fallback` when not a scalar). */
export function field(r: ResourceRow, key: string, fallback = ''): string {
  const v = r.status[key];
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : fallback;
}
