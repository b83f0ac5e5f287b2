// http(s) download: a plain GET (no auth, no retries, as Sedna) following redirects. Stricter than
// Sedna, which wrote nothing and carried on: a non-2xx answer is an error naming status and URL.
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { writeStreamAtomically } from './atomic.ts';

export async function httpDownload(url: string, dst: string): Promise<void> {
  const response = await fetch(url, { redirect: 'follow' });
  if (!response.ok || !response.body) {
    await response.body?.cancel();
    throw new Error(`download of ${url} failed: HTTP ${response.status} ${response.statusText}`.trim());
  }
  await writeStreamAtomically(Readable.fromWeb(response.body as WebReadableStream<Uint8Array>), dst);
}
