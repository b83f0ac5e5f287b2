// Host ports for container ports. Every pod shares 127.0.0.1, so two pods that both listen on
// containerPort 8080 would collide; instead each `<container>/<containerPort>` gets a free host
// port (or its `hostPort` when the spec names one), recorded on the pod in the annotation
// HOST_PORTS_ANNOTATION as JSON, and handed to the process as PORT (its first port),
// PORT_<containerPort> and PORT_<NAME> (the port's name upper-cased).
import { createServer } from 'node:net';
import type { Pod } from '../../api/workloads.ts';

export const HOST_PORTS_ANNOTATION = 'sedna.io/host-ports';

export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** The host ports a pod needs: those already recorded in its annotation, new ones otherwise. */
export async function allocateHostPorts(pod: Pod, allocate: () => Promise<number> = freePort): Promise<Record<string, number>> {
  let recorded: Record<string, number> = {};
  try {
    recorded = JSON.parse(pod.metadata.annotations?.[HOST_PORTS_ANNOTATION] ?? '{}') as Record<string, number>;
  } catch {
    recorded = {};
  }
  const out: Record<string, number> = {};
  for (const container of pod.spec?.containers ?? []) {
    for (const port of container.ports ?? []) {
      const key = `${container.name}/${port.containerPort}`;
      out[key] = port.hostPort ?? recorded[key] ?? (await allocate());
    }
  }
  return out;
}
