// Generated names (spec §2.3.4, appendix A/E): the 5-character suffixes Kubernetes' rand package
// draws from an alphabet without vowels or look-alike digits (so no accidental words), and
// ConvertK8SValidName, which turns a host path into a volume name.
import { randomInt } from 'node:crypto';
import type { Deployment } from '../../api/workloads.ts';

/** k8s.io/apimachinery/pkg/util/rand's alphabet. */
export const RAND_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

export function randomSuffix(length = 5): string {
  let out = '';
  for (let i = 0; i < length; i++) out += RAND_ALPHABET[randomInt(RAND_ALPHABET.length)];
  return out;
}

/** `<prefix>-<5 random>`, e.g. WORKER_NAME `cloudworker-x7k2b`. */
export function workerName(prefix: string): string {
  return `${prefix}-${randomSuffix()}`;
}

/**
 * WORKER_NAME as the live Deployment has it (the last one, as the kubelet resolves a repeated
 * name), so a worker whose spec did not change keeps its name and is not rolled.
 */
export function liveWorkerName(live: Deployment | undefined): string | undefined {
  return live?.spec.template.spec.containers[0]?.env?.findLast((e) => e.name === 'WORKER_NAME')?.value;
}

const MAX_NAME_LENGTH = 63;

/**
 * Sedna's ConvertK8SValidName: lower-case; [a-z0-9-] kept; any other byte becomes one `-` (never
 * leading, never doubled); at most 63 characters; a trailing `-` becomes `z`.
 * `/model/` → `modelz`, `/code/data/` → `code-dataz`.
 */
export function convertK8sValidName(input: string): string {
  let out = '';
  for (const byte of Buffer.from(input.toLowerCase(), 'utf8')) {
    const ch = String.fromCharCode(byte);
    if (/[a-z0-9-]/.test(ch)) out += ch;
    else if (out !== '' && !out.endsWith('-')) out += '-';
  }
  out = out.slice(0, MAX_NAME_LENGTH);
  return out.endsWith('-') ? `${out.slice(0, -1)}z` : out;
}
