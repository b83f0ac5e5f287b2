// A dependency-free SVG line chart for the studies' figures: axes with ticks, one polyline (and
// optional markers) per series, a legend. Enough for "accuracy against share offloaded" and
// "test accuracy per round"; the numbers themselves are in the study's JSON.

export interface Series {
  name: string;
  points: readonly (readonly [number, number])[];
  dashed?: boolean;
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  x: readonly [number, number];
  y: readonly [number, number];
  width?: number;
  height?: number;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function ticks([low, high]: readonly [number, number], count = 5): number[] {
  const step = (high - low) / count;
  return Array.from({ length: count + 1 }, (_, i) => low + i * step);
}

function label(value: number): string {
  return Math.abs(value) >= 10 || Number.isInteger(value) ? String(Math.round(value * 100) / 100) : value.toFixed(2);
}

export function lineChart(series: readonly Series[], options: ChartOptions): string {
  const width = options.width ?? 640;
  const height = options.height ?? 400;
  const margin = { left: 60, right: 170, top: 34, bottom: 46 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const sx = (x: number) => margin.left + ((x - options.x[0]) / (options.x[1] - options.x[0])) * plotW;
  const sy = (y: number) => margin.top + plotH - ((y - options.y[0]) / (options.y[1] - options.y[0])) * plotH;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${margin.left + plotW / 2}" y="18" text-anchor="middle" font-size="13">${escape(options.title)}</text>`,
  ];
  for (const x of ticks(options.x)) {
    parts.push(`<line x1="${sx(x)}" y1="${margin.top}" x2="${sx(x)}" y2="${margin.top + plotH}" stroke="#eee"/>`);
    parts.push(`<text x="${sx(x)}" y="${margin.top + plotH + 14}" text-anchor="middle">${label(x)}</text>`);
  }
  for (const y of ticks(options.y)) {
    parts.push(`<line x1="${margin.left}" y1="${sy(y)}" x2="${margin.left + plotW}" y2="${sy(y)}" stroke="#eee"/>`);
    parts.push(`<text x="${margin.left - 6}" y="${sy(y) + 4}" text-anchor="end">${label(y)}</text>`);
  }
  parts.push(`<rect x="${margin.left}" y="${margin.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333"/>`);
  parts.push(`<text x="${margin.left + plotW / 2}" y="${height - 10}" text-anchor="middle">${escape(options.xLabel)}</text>`);
  parts.push(`<text transform="translate(14 ${margin.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escape(options.yLabel)}</text>`);
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length]!;
    const inside = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    const path = inside.map(([x, y]) => `${sx(x).toFixed(1)},${sy(Math.min(Math.max(y, options.y[0]), options.y[1])).toFixed(1)}`).join(' ');
    parts.push(`<polyline points="${path}" fill="none" stroke="${color}" stroke-width="1.8"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/>`);
    const ly = margin.top + 10 + i * 16;
    parts.push(`<line x1="${width - margin.right + 10}" y1="${ly}" x2="${width - margin.right + 30}" y2="${ly}" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/>`);
    parts.push(`<text x="${width - margin.right + 34}" y="${ly + 4}">${escape(s.name)}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
