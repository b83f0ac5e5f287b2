// Whether a peer address is this machine's loopback: endpoints without a configured token serve
// only such callers (the LC's worker API, the big-model service, the aggregation server).
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  if (address === '::1') return true;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}
