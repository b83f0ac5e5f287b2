// A dns.lookup-compatible resolver for workers: Service names first come from the hosts file the
// embedded kubelet keeps ($SEDNA_SERVICE_HOSTS, re-read when it changes), then from the system
// resolver. On real Kubernetes the variable is unset and cluster DNS answers, so the same worker
// code reaches `<svc>.<ns>` on both. Use it as the `lookup` option of http.Agent or net.connect.
import dns, { type LookupAddress, type LookupAllOptions, type LookupOneOptions, type LookupOptions } from 'node:dns';
import { readFileSync, statSync } from 'node:fs';

export const SERVICE_HOSTS_ENV = 'SEDNA_SERVICE_HOSTS';

interface HostsCache {
  path: string;
  stamp: string;
  names: Map<string, string>;
}

let cache: HostsCache | undefined;

/** `<ip> <name>…` lines; `#` starts a comment. Later lines do not override earlier ones (as /etc/hosts). */
export function parseHosts(text: string): Map<string, string> {
  const names = new Map<string, string>();
  for (const line of text.split('\n')) {
    const [ip, ...aliases] = line.replace(/#.*/, '').trim().split(/\s+/);
    if (!ip) continue;
    for (const alias of aliases) if (!names.has(alias.toLowerCase())) names.set(alias.toLowerCase(), ip);
  }
  return names;
}

/** The address the hosts file gives `hostname`, or undefined (no file, no variable, no entry). */
export function lookupServiceHost(hostname: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const path = env[SERVICE_HOSTS_ENV];
  if (!path) return undefined;
  let stamp: string;
  try {
    const stat = statSync(path);
    stamp = `${stat.ino}:${stat.mtimeMs}:${stat.size}`;
  } catch {
    return undefined;
  }
  if (cache?.path !== path || cache.stamp !== stamp) {
    try {
      cache = { path, stamp, names: parseHosts(readFileSync(path, 'utf8')) };
    } catch {
      return undefined;
    }
  }
  return cache.names.get(hostname.toLowerCase().replace(/\.$/, ''));
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the union of dns.lookup's callbacks
type LookupCallback = (err: NodeJS.ErrnoException | null, ...result: any[]) => void;

function familyOf(options: number | LookupOptions | undefined): number {
  if (typeof options === 'number') return options;
  const family = options?.family;
  return family === 'IPv4' ? 4 : family === 'IPv6' ? 6 : (family ?? 0);
}

/** Same signature as dns.lookup. Hosts-file entries are IPv4, so a lookup for family 6 skips them. */
export function serviceLookup(hostname: string, callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void): void;
export function serviceLookup(hostname: string, options: number | LookupOneOptions, callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void): void;
export function serviceLookup(hostname: string, options: LookupAllOptions, callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void): void;
export function serviceLookup(hostname: string, options: LookupOptions, callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void): void;
export function serviceLookup(hostname: string, optionsOrCallback: number | LookupOptions | LookupCallback, maybeCallback?: LookupCallback): void {
  const callback = (typeof optionsOrCallback === 'function' ? optionsOrCallback : maybeCallback)!;
  const options = typeof optionsOrCallback === 'function' ? undefined : optionsOrCallback;
  const family = familyOf(options);
  const address = family === 6 ? undefined : lookupServiceHost(hostname);
  if (address === undefined) {
    dns.lookup(hostname, (options ?? {}) as LookupOptions, callback);
    return;
  }
  const all = typeof options === 'object' && options.all === true;
  // dns.lookup never calls back synchronously; neither does this.
  process.nextTick(() => (all ? callback(null, [{ address, family: 4 }]) : callback(null, address, 4)));
}
