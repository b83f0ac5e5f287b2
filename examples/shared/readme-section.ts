// A study's generated section of a README: the text between its start and end markers is replaced
// on every run (appended the first time), and nothing else in the file changes.

export function replaceSection(readme: string, body: string, start: string, end: string): string {
  const block = `${start}\n${body}\n${end}`;
  const from = readme.indexOf(start);
  const to = readme.indexOf(end);
  if (from < 0 || to < from) return `${readme.trimEnd()}\n\n${block}\n`;
  return readme.slice(0, from) + block + readme.slice(to + end.length);
}
