// Reading `kubectl get` tables in tests.

/** `kubectl get` output split at the header's column starts (cells may be empty). */
export function parseTable(text: string): { header: string[]; rows: Record<string, string>[] } {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const headerLine = lines[0] ?? '';
  const starts: number[] = [];
  const header: string[] = [];
  for (const m of headerLine.matchAll(/\S+(?: \S+)*/g)) {
    starts.push(m.index);
    header.push(m[0]);
  }
  const rows = lines.slice(1).map((line) =>
    Object.fromEntries(header.map((h, i) => [h, line.slice(starts[i], i + 1 < starts.length ? starts[i + 1] : undefined).trim()])),
  );
  return { header, rows };
}
