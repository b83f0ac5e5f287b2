// Per-node credentials. Sedna's GM took any `Node-Name` on faith (§6 item 1), so anyone reaching
// port 9000 could read a node's objects (S3 keys included) and forge status for any resource.
// Here every node has its own token; the source is pluggable so the GM can keep tokens in a
// Kubernetes Secret (one key per node) as well as in a file.
import { tokenMatches } from '../lib/token-match.ts';
import { readFile, stat } from 'node:fs/promises';
import { parse } from 'yaml';

export interface NodeTokenSource {
  /** The token `node` must present, or undefined when the node has no credential. */
  tokenFor(node: string): Promise<string | undefined>;
}

/**
 * Who may connect as a node. A token source (one secret per node) is one kind; the GM on a
 * cluster uses another, the LC pod's ServiceAccount token checked with a TokenReview
 * (src/gm/service-account-nodes.ts).
 */
export interface NodeAuthenticator {
  /** Whether `token` proves the caller is `node`; throws when the check itself could not be made. */
  verify(node: string, token: string): Promise<boolean>;
  /** Whether `node` may ever connect: messages for any other name are not queued. */
  mayConnect(node: string): Promise<boolean>;
}

/** A token source as an authenticator: the node presents exactly its token. */
export function tokenAuthenticator(source: NodeTokenSource): NodeAuthenticator {
  return {
    verify: async (node, token) => tokenMatches(token, await source.tokenFor(node)),
    mayConnect: async (node) => (await source.tokenFor(node)) !== undefined,
  };
}

/** Tokens held in memory: tests, and the embedded mode that generates them. */
export class StaticNodeTokens implements NodeTokenSource {
  private readonly tokens: Map<string, string>;

  constructor(tokens: Record<string, string> = {}) {
    this.tokens = new Map(Object.entries(tokens));
  }

  set(node: string, token: string): void {
    this.tokens.set(node, token);
  }

  delete(node: string): void {
    this.tokens.delete(node);
  }

  tokenFor(node: string): Promise<string | undefined> {
    return Promise.resolve(this.tokens.get(node));
  }
}

/**
 * A YAML file of `node: token` pairs, read again whenever it changes, so a token can be added or
 * rotated without restarting the GM.
 */
export class FileNodeTokens implements NodeTokenSource {
  private cached: { version: string; tokens: Map<string, string> } | undefined;

  constructor(readonly path: string) {}

  async tokenFor(node: string): Promise<string | undefined> {
    return (await this.load()).get(node);
  }

  /** Reads (or re-reads) the file; throws naming the file and the offending entry. */
  async load(): Promise<Map<string, string>> {
    const info = await stat(this.path);
    const version = `${info.mtimeMs}:${info.size}`;
    if (this.cached?.version !== version) {
      this.cached = { version, tokens: parseTokenFile(this.path, await readFile(this.path, 'utf8')) };
    }
    return this.cached.tokens;
  }
}

export function parseTokenFile(path: string, text: string): Map<string, string> {
  let document: unknown;
  try {
    document = parse(text);
  } catch (err) {
    throw new Error(`${path}: not valid YAML: ${(err as Error).message}`);
  }
  if (document === null || document === undefined) return new Map();
  if (typeof document !== 'object' || Array.isArray(document)) throw new Error(`${path}: expected a mapping of node name to token`);
  const tokens = new Map<string, string>();
  for (const [node, token] of Object.entries(document as Record<string, unknown>)) {
    if (typeof token !== 'string' || token === '') throw new Error(`${path}: ${node}: the token must be a non-empty string`);
    tokens.set(node, token);
  }
  return tokens;
}

export { tokenMatches };
