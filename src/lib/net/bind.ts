// Which port a worker listens on for one of its containerPorts. The embedded kubelet runs every
// pod on 127.0.0.1 and hands each declared containerPort its own host port as PORT_<containerPort>;
// on real Kubernetes that variable is absent and the containerPort itself is right.
export function listenAddress(containerPort: number, env: NodeJS.ProcessEnv = process.env): number {
  const assigned = env[`PORT_${containerPort}`];
  if (assigned === undefined || assigned === '') return containerPort;
  const port = Number(assigned);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`PORT_${containerPort}=${JSON.stringify(assigned)} is not a port number`);
  return port;
}
