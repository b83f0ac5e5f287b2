// The pages' data: the snapshot from GET /api/stream (server-sent events), replaced on every push.
import { useEffect, useState } from 'preact/hooks';
import type { DashboardSnapshot } from '../../api/dashboard.ts';

export interface Live {
  snapshot: DashboardSnapshot | undefined;
  connected: boolean;
  csrf: string | undefined;
}

/** Subscribes to the server's pushes; EventSource reconnects by itself after a drop. */
export function useLive(): Live {
  const [live, setLive] = useState<Live>({ snapshot: undefined, connected: false, csrf: undefined });
  useEffect(() => {
    let csrf: string | undefined;
    void fetch('/api/state', { credentials: 'same-origin' })
      .then((r) => (r.ok ? (r.json() as Promise<{ csrf: string; snapshot: DashboardSnapshot }>) : undefined))
      .then((body) => {
        if (!body) return;
        csrf = body.csrf;
        setLive((l) => ({ ...l, csrf, snapshot: l.snapshot ?? body.snapshot }));
      });
    const source = new EventSource('/api/stream');
    source.addEventListener('state', (e) => {
      const snapshot = JSON.parse((e as MessageEvent<string>).data) as DashboardSnapshot;
      setLive((l) => ({ snapshot, connected: true, csrf: l.csrf ?? csrf }));
    });
    source.addEventListener('error', () => setLive((l) => ({ ...l, connected: false })));
    return () => source.close();
  }, []);
  return live;
}

/** The current hash route (#/overview …), updated on navigation. */
export function useRoute(): string {
  const read = (): string => (location.hash.replace(/^#\/?/, '') || 'overview').split('?')[0]!;
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const on = (): void => setRoute(read());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}
