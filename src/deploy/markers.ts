// A value in the manifests that the install's settings decide: `value('gm.image')` stands for
// values.gm.image. The manifests are written once with these markers; render.ts turns them into
// the defaults (the kustomize base) or into Helm expressions (the chart), so the two cannot drift.
import type { Values } from './values.ts';

type Leaves<T, P extends string = ''> = {
  [K in keyof T & string]: T[K] extends Record<string, unknown> ? (keyof T[K] extends never ? `${P}${K}` : `${P}${K}` | Leaves<T[K], `${P}${K}.`>) : `${P}${K}`;
}[keyof T & string];

/** A dotted path into {@link Values}, e.g. `gm.websocket.port`. */
export type ValuePath = Leaves<Values>;

const OPEN = '\u27ea';
const CLOSE = '\u27eb';
export const MARKER = /\u27ea([@\w.]+)\u27eb/g;
/** The install's namespace: `sedna` in the kustomize base (kustomization `namespace:` changes it), .Release.Namespace in the chart. */
export const NAMESPACE_PATH = '@namespace';

export function value(path: ValuePath): string {
  return `${OPEN}${path}${CLOSE}`;
}

export function namespace(): string {
  return `${OPEN}${NAMESPACE_PATH}${CLOSE}`;
}

/** The value at a dotted path. */
export function lookup(values: Values, path: string): unknown {
  let node: unknown = values;
  for (const key of path.split('.')) {
    if (typeof node !== 'object' || node === null || !(key in node)) throw new Error(`no value ${path}`);
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}
