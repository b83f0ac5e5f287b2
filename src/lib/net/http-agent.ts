// The http.Agent workers use to reach Services: keep-alive, names resolved by serviceLookup
// (the embedded kubelet's hosts file first, then DNS).
import { Agent, type AgentOptions } from 'node:http';
import { serviceLookup } from './lookup.ts';

export function serviceAgent(options: AgentOptions = {}): Agent {
  return new Agent({ keepAlive: true, ...options, lookup: serviceLookup });
}
