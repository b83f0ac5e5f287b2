// kube-apiserver's --token-auth-file: a CSV of `token,user,uid,"group1,group2"`. The file is
// re-read when it changes, so `sedna up` can add a node's identity without a restart.
import { readFileSync, statSync } from 'node:fs';
import { tokenMatches } from '../../lib/token-match.ts';
import { SYSTEM_AUTHENTICATED, type UserInfo } from './user.ts';

interface Entry {
  token: string;
  user: UserInfo;
}

/** One CSV record: fields separated by commas, double quotes around a field that has commas. */
function parseCsvLine(line: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      fields.push(field);
      field = '';
    } else field += c;
  }
  fields.push(field);
  return fields.map((f) => f.trim());
}

export function parseTokenFile(text: string, file = 'token file'): Entry[] {
  const entries: Entry[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '' || line.trimStart().startsWith('#')) return;
    const [token, name, uid, groups] = parseCsvLine(line);
    if (!token || !name) throw new Error(`${file}:${i + 1}: a line needs at least a token and a user name`);
    const user: UserInfo = { name, groups: [...(groups ? groups.split(',').map((g) => g.trim()).filter(Boolean) : []), SYSTEM_AUTHENTICATED] };
    if (uid) user.uid = uid;
    entries.push({ token, user });
  });
  return entries;
}

export class StaticTokens {
  private entries: Entry[] = [];
  private loadedMtime = -1;
  private checkedAt = 0;

  constructor(
    private readonly file: string | undefined,
    private readonly fixed: Entry[] = [],
  ) {
    this.reload();
  }

  /** The user a token names; every entry is compared, so timing says nothing about which is close. */
  authenticate(token: string): UserInfo | undefined {
    this.reload();
    let found: UserInfo | undefined;
    for (const entry of [...this.fixed, ...this.entries]) if (tokenMatches(token, entry.token) && !found) found = entry.user;
    return found;
  }

  /** Re-reads the file when its mtime moved; at most once a second. */
  private reload(): void {
    if (!this.file) return;
    const now = Date.now();
    if (now - this.checkedAt < 1000 && this.loadedMtime >= 0) return;
    this.checkedAt = now;
    let mtime: number;
    try {
      mtime = statSync(this.file).mtimeMs;
    } catch {
      this.entries = [];
      this.loadedMtime = 0;
      return;
    }
    if (mtime === this.loadedMtime) return;
    this.entries = parseTokenFile(readFileSync(this.file, 'utf8'), this.file);
    this.loadedMtime = mtime;
  }
}
