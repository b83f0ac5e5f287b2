// A uPlot line chart of one or more series sharing an x axis (time or round), resized with its box.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import type { Point } from '../../api/dashboard.ts';

export interface Line {
  label: string;
  points: Point[];
  color: string;
}

interface Props {
  title: string;
  lines: Line[];
  /** x is a time in ms (plotted as a time axis), or a round or cycle number. */
  x: 'time' | 'round' | 'cycle';
  /** Shown under the title for screen readers and when there is nothing to plot. */
  summary: string;
}

/** Aligns the lines on the union of their x values (uPlot's data layout), gaps as null. */
function align(lines: Line[], x: Props['x']): uPlot.AlignedData {
  const xs = [...new Set(lines.flatMap((l) => l.points.map((p) => p[0])))].sort((a, b) => a - b);
  const index = new Map(xs.map((v, i) => [v, i]));
  const ys = lines.map((l) => {
    const col: (number | null)[] = xs.map(() => null);
    for (const [px, py] of l.points) col[index.get(px)!] = py;
    return col;
  });
  return [x === 'time' ? xs.map((v) => v / 1000) : xs, ...ys];
}

/** One x value: a minute (or a round) either side of it, where uPlot would show a day or more. */
function singleRange(u: uPlot, x: Props['x']): uPlot.Range.MinMax | undefined {
  const xs = u.data[0];
  if (xs.length !== 1) return undefined;
  const pad = x === 'time' ? 60 : 1;
  return [xs[0]! - pad, xs[0]! + pad];
}

export function Chart({ title, lines, x, summary }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = `${x}:${lines.map((l) => l.label).join(',')}`;

  useEffect(() => {
    const el = box.current!;
    const opts: uPlot.Options = {
      width: Math.max(240, el.clientWidth),
      height: 220,
      // One point would otherwise stretch the axis over years and draw nothing.
      scales: { x: { time: x === 'time', range: (u, min, max) => singleRange(u, x) ?? [min, max] } },
      // Rounds and cycles are whole numbers; the y axis is wide enough for counts of bytes.
      axes: [x === 'time' ? {} : { label: x, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000] }, { size: 70 }],
      series: [{ label: x }, ...lines.map((l) => ({ label: l.label, stroke: l.color, width: 2, points: { show: (u: uPlot) => x !== 'time' || u.data[0].length <= 30 } }))],
    };
    plot.current = new uPlot(opts, align(lines, x), el);
    const resize = new ResizeObserver(() => plot.current?.setSize({ width: Math.max(240, el.clientWidth), height: 220 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
    // Rebuilt only when the set of lines changes; new points go through setData below.
  }, [shape]);

  useEffect(() => {
    plot.current?.setData(align(lines, x));
  });

  const count = Math.max(0, ...lines.map((l) => l.points.length));
  return (
    <figure class="chart" data-points={count} data-chart={title}>
      <figcaption>
        {title} <span class="muted">{summary}</span>
      </figcaption>
      <div ref={box} class="plot" role="img" aria-label={`${title}: ${summary}`} />
    </figure>
  );
}
