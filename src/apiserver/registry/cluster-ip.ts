// Service ClusterIP allocation, like kube-apiserver's --service-cluster-ip-range. The embedded
// default lies on loopback (Linux routes all of 127/8 to lo), so the embedded service proxy can bind
// every ClusterIP without privileges. The store is one process and a create runs synchronously, so
// "look at what the stored Services hold, pick a free address" cannot race with another create.

export const DEFAULT_SERVICE_CLUSTER_IP_RANGE = '127.96.0.0/12';

/** Which addresses are taken, and by whom (`<namespace>/<name>`). */
export type ClusterIpsInUse = () => Iterable<readonly [ip: string, owner: string]>;

/** No free address is left in the range. */
export class RangeFullError extends Error {
  override readonly name = 'RangeFullError';
}

// No leading zeros: Go's net.ParseIP rejects them too.
const OCTET = '(0|[1-9]\\d{0,2})';
const IPV4 = new RegExp(`^${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}$`);

/** The 32-bit value of a dotted IPv4 address, or undefined when `ip` is not one. */
export function ipv4ToInt(ip: string): number | undefined {
  const match = IPV4.exec(ip);
  if (!match) return undefined;
  const octets = match.slice(1).map(Number);
  if (octets.some((o) => o > 255)) return undefined;
  return octets.reduce((n, o) => n * 256 + o, 0);
}

export function intToIpv4(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}

export interface Ipv4Cidr {
  cidr: string;
  /** The network address as a number. */
  base: number;
  /** Addresses in the block, network and broadcast included. */
  size: number;
}

export function parseIpv4Cidr(cidr: string): Ipv4Cidr {
  const [address, bitsText, extra] = cidr.split('/');
  const bits = Number(bitsText);
  const ip = ipv4ToInt(address ?? '');
  if (ip === undefined || extra !== undefined || bitsText === undefined || !/^\d+$/.test(bitsText) || bits > 32) {
    throw new Error(`service cluster IP range ${JSON.stringify(cidr)} is not an IPv4 CIDR such as ${DEFAULT_SERVICE_CLUSTER_IP_RANGE}`);
  }
  const size = 2 ** (32 - bits);
  const base = ip - (ip % size);
  if (size < 4) throw new Error(`service cluster IP range ${cidr} is too small (at most /30)`);
  return { cidr: `${intToIpv4(base)}/${bits}`, base, size };
}

export class ClusterIpAllocator {
  readonly range: Ipv4Cidr;

  constructor(
    cidr: string,
    private readonly inUse: ClusterIpsInUse,
    private readonly random: () => number = Math.random,
  ) {
    this.range = parseIpv4Cidr(cidr);
  }

  /** Network and broadcast addresses are never handed out, as in kube-apiserver. */
  contains(ip: string): boolean {
    const n = ipv4ToInt(ip);
    return n !== undefined && n > this.range.base && n < this.range.base + this.range.size - 1;
  }

  /** The `<namespace>/<name>` holding `ip`, other than `self`; undefined when free. */
  holder(ip: string, self?: string): string | undefined {
    for (const [taken, owner] of this.inUse()) if (taken === ip && owner !== self) return owner;
    return undefined;
  }

  /** A free address: random tries first (cheap in a sparse range), then a scan from a random start. */
  allocate(): string {
    const taken = new Set<number>();
    for (const [ip] of this.inUse()) {
      const n = ipv4ToInt(ip);
      if (n !== undefined) taken.add(n);
    }
    const first = this.range.base + 1;
    const count = this.range.size - 2;
    for (let attempt = 0; attempt < 32; attempt++) {
      const n = first + Math.floor(this.random() * count);
      if (!taken.has(n)) return intToIpv4(n);
    }
    const start = Math.floor(this.random() * count);
    for (let i = 0; i < count; i++) {
      const n = first + ((start + i) % count);
      if (!taken.has(n)) return intToIpv4(n);
    }
    throw new RangeFullError(`range is full: no free address in ${this.range.cidr}`);
  }
}
