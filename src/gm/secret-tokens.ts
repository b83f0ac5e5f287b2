// Node tokens kept in a Kubernetes Secret, one key per node (the config default:
// sedna/sedna-node-tokens). Read through the API and cached briefly, so a node added to the
// Secret can connect within seconds without a GM restart.
import type { KubeConfig } from '@kubernetes/client-node';
import { isApiError, requestJson } from '../controller/index.ts';
import type { NodeTokenSource } from '../edgelink/index.ts';

interface Secret {
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

export class SecretNodeTokens implements NodeTokenSource {
  private cached: { at: number; tokens: Map<string, string> } | undefined;

  constructor(
    private readonly kc: KubeConfig,
    private readonly namespace: string,
    private readonly name: string,
    private readonly cacheMs = 5_000,
  ) {}

  async tokenFor(node: string): Promise<string | undefined> {
    if (!this.cached || Date.now() - this.cached.at > this.cacheMs) this.cached = { at: Date.now(), tokens: await this.read() };
    return this.cached.tokens.get(node);
  }

  private async read(): Promise<Map<string, string>> {
    try {
      const secret = await requestJson<Secret>(this.kc, {
        path: `/api/v1/namespaces/${encodeURIComponent(this.namespace)}/secrets/${encodeURIComponent(this.name)}`,
        timeoutMs: 10_000,
      });
      const tokens = new Map<string, string>();
      for (const [node, value] of Object.entries(secret.data ?? {})) tokens.set(node, Buffer.from(value, 'base64').toString('utf8').trim());
      return tokens;
    } catch (err) {
      if (isApiError(err, 404)) return new Map(); // no Secret: no node may connect
      throw err;
    }
  }
}
