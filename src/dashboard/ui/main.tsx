// The dashboard's single page: a header with the pages' links, and the current page, re-rendered on
// every snapshot the server pushes.
import { render } from 'preact';
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { Data, Events, FederatedLearning, IncrementalLearning, JointInference, LifelongLearning, Logs, Overview } from './pages.tsx';
import { useLive, useRoute } from './store.ts';

const PAGES = [
  { route: 'overview', title: 'Overview', page: Overview },
  { route: 'joint-inference', title: 'Joint inference', page: JointInference },
  { route: 'federated-learning', title: 'Federated learning', page: FederatedLearning },
  { route: 'incremental-learning', title: 'Incremental learning', page: IncrementalLearning },
  { route: 'lifelong-learning', title: 'Lifelong learning', page: LifelongLearning },
  { route: 'data', title: 'Datasets & models', page: Data },
  { route: 'events', title: 'Events', page: Events },
  { route: 'logs', title: 'Logs', page: Logs },
];

function App() {
  const live = useLive();
  const route = useRoute();
  const current = PAGES.find((p) => p.route === route) ?? PAGES[0]!;
  const Page = current.page;
  const logout = async (): Promise<void> => {
    await fetch('/api/logout', { method: 'POST', headers: { 'x-sedna-csrf': live.csrf ?? '' }, credentials: 'same-origin' });
    location.reload();
  };
  return (
    <>
      <a class="skip" href="#main">Skip to content</a>
      <header>
        <h1>Sedna</h1>
        <nav aria-label="pages">
          {PAGES.map((p) => (
            <a href={`#/${p.route}`} aria-current={p === current ? 'page' : undefined}>
              {p.title}
            </a>
          ))}
        </nav>
        <span class={`live ${live.connected ? 'on' : 'off'}`} role="status">{live.connected ? 'live' : 'connecting…'}</span>
        <button type="button" onClick={() => void logout()}>Sign out</button>
      </header>
      <main id="main" tabIndex={-1}>
        <h1 class="page-title">{current.title}</h1>
        {live.snapshot ? <Page s={live.snapshot} /> : <p class="muted">loading…</p>}
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
