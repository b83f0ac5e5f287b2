// The inference worker of the lifelong-learning example: the edge, started by the GM once the
// first round deployed a knowledge base (MODEL_URLS: <outputDir>/deploy/index.json, with the
// task models in the knowledge base, KB_SERVER and KB_TOKEN). It answers the camera files dropped
// in INBOX (CSV; `<name>.csv` is answered once, into RESULTS_DIR/<name>.json: per sample its
// prediction, the task that answered, whether it was unseen, and the knowledge base version), in
// batches through LifelongLearning.inference, which saves unseen samples to UT_SAVED_URL. Every
// MODEL_POLL_PERIOD_SECONDS it re-reads MODEL_URLS and swaps a new knowledge base in place (hot
// update: the job is annotated so the GM does not restart it); each version and when it started
// serving go to RESULTS_DIR/lifelong-learning-edge.json.
import { existsSync, mkdirSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LifelongLearning, readSamplesCsv, subsetSamples, workerContext, type Samples } from 'sedna/worker';
import { modelSettingsFromEnv, pipelineOptions } from './worker-setup.ts';

const ctx = workerContext();
const BATCH = 100;

export interface EdgeAnswer {
  sample_id: string;
  prediction: number | null;
  task: string | null;
  unseen: boolean;
  version: string;
}

export interface EdgeStatus {
  versions: { version: string; at: string }[];
  answered: number;
  failed: number;
}

function writeJson(file: string, value: unknown): void {
  writeFileSync(`${file}.tmp`, JSON.stringify(value));
  renameSync(`${file}.tmp`, file);
}

async function answer(ll: LifelongLearning, samples: Samples, status: EdgeStatus): Promise<EdgeAnswer[]> {
  const out: EdgeAnswer[] = [];
  for (let start = 0; start < samples.x.length; start += BATCH) {
    const rows = Array.from({ length: Math.min(BATCH, samples.x.length - start) }, (_, i) => start + i);
    try {
      const result = await ll.inference(subsetSamples(samples, rows));
      const version = ll.deployedVersion ?? '';
      rows.forEach((row, i) => out.push({ sample_id: samples.meta[row]!.sample_id ?? String(row), prediction: result.predictions[i]!, task: result.tasks[i]!, unseen: result.isUnseen[i]!, version }));
      status.answered += rows.length;
    } catch (error) {
      status.failed += rows.length;
      console.error(`inference worker: a batch failed: ${(error as Error).message}`);
    }
  }
  return out;
}

async function main(): Promise<void> {
  const inbox = process.env.INBOX;
  const results = process.env.RESULTS_DIR;
  if (!inbox || !results) throw new Error('INBOX and RESULTS_DIR must be set: where camera files arrive and where answers go');
  mkdirSync(results, { recursive: true });
  const ll = new LifelongLearning(pipelineOptions(modelSettingsFromEnv()));
  const statusFile = join(results, 'lifelong-learning-edge.json');
  const status: EdgeStatus = { versions: [], answered: 0, failed: 0 };
  const noteVersion = (): void => {
    const version = ll.deployedVersion;
    if (version && status.versions.at(-1)?.version !== version) {
      status.versions.push({ version, at: new Date().toISOString() });
      console.log(`inference worker ${ctx.workerName}: serving knowledge base ${version}`);
    }
    writeJson(statusFile, status);
  };
  for (;;) {
    try {
      await ll.deployKnowledgeBase();
      break;
    } catch (error) {
      console.error(`inference worker: no knowledge base yet at ${ctx.modelUrls}: ${(error as Error).message}`);
      await sleep(1000);
    }
  }
  noteVersion();
  let lastPoll = Date.now();
  for (;;) {
    if (Date.now() - lastPoll >= ctx.modelPollPeriodSeconds * 1000) {
      lastPoll = Date.now();
      // A KB that is down or an index being rewritten keeps the deployed one serving.
      await ll.deployKnowledgeBase().catch((error: unknown) => console.error(`inference worker: hot update skipped: ${(error as Error).message}`));
    }
    noteVersion();
    const pending = existsSync(inbox) ? readdirSync(inbox).filter((f) => f.endsWith('.csv') && !existsSync(join(results, `${basename(f, '.csv')}.json`))).sort() : [];
    for (const file of pending) {
      const samples = readSamplesCsv(join(inbox, file), { dataType: 'test' });
      const answers = await answer(ll, samples, status);
      writeJson(join(results, `${basename(file, '.csv')}.json`), answers);
      console.log(`inference worker ${ctx.workerName}: answered ${file} (${answers.length} samples, ${answers.filter((a) => a.unseen).length} unseen)`);
      noteVersion();
    }
    await sleep(200);
  }
}

process.once('SIGTERM', () => process.exit(0));
main().catch((error: unknown) => {
  console.error(`inference worker failed: ${(error as Error).stack ?? String(error)}`);
  process.exit(1);
});
