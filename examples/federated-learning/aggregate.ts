// The aggregation worker of the federated-learning example (runs on the cloud node): Sedna's
// AggregationServer, plus what only the aggregator can do — it owns the global model, so after
// every round it evaluates that model on the 10,000 Fashion-MNIST test images and appends the
// round's accuracy and bytes to RESULTS_DIR/federated-learning-rounds.jsonl. Exits 0 after the
// last round once the trainers left. Restarted (kill -9, OOM), the server resumes from its
// checkpoint (AGG_CHECKPOINT_DIR, from the GM) and the rounds file is kept; a round whose
// evaluation the killed run had not written yet is evaluated again when it is the checkpoint's. Env from the GM: AGG_BIND_IP/PORT, AGG_TOKEN,
// PARTICIPANTS_COUNT; from resources.yaml: exit_round, aggregation_algorithm, round deadline/quorum.
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { AggregationServer, cloneWeights, TfjsClassifier, type ClassifierData, type ModelWeights, type RoundSummary } from 'sedna/worker';
import { loadTestSet } from './data.ts';
import { buildMlp } from './model.ts';
import { parseRoundsFile, ROUNDS_FILE, type RoundRecord, type RoundsDone } from './rounds.ts';

const resultsDir = process.env['RESULTS_DIR'] ?? '.';
const roundsFile = join(resultsDir, ROUNDS_FILE);
const startedAt = Date.now();

function seconds(): number {
  return Math.round((Date.now() - startedAt) / 100) / 10;
}

async function evaluateRound(model: TfjsClassifier, test: ClassifierData, summary: RoundSummary, weights: ModelWeights): Promise<RoundRecord> {
  model.setWeights(weights);
  const { accuracy = NaN, loss = NaN } = await model.evaluate(test);
  const { round, bytesIn, bytesOut, clients, samples, closedBy } = summary;
  return { round, accuracy, loss, bytesSent: bytesIn, bytesReceived: bytesOut, clients, samples, closedBy, seconds: seconds() };
}

/** After a resume: the checkpoint's round evaluated again if the killed run had not recorded it. */
async function recordResumedRound(model: TfjsClassifier, test: ClassifierData, server: AggregationServer): Promise<void> {
  const recorded = new Set(existsSync(roundsFile) ? parseRoundsFile(readFileSync(roundsFile, 'utf8')).rounds.map((r) => r.round) : []);
  const missing = server.rounds.filter((r) => !recorded.has(r.round)).map((r) => r.round);
  const last = server.rounds.at(-1);
  if (last && !recorded.has(last.round)) {
    const record = await evaluateRound(model, test, last, server.weights!);
    appendFileSync(roundsFile, `${JSON.stringify(record)}\n`);
  }
  const lost = missing.filter((round) => round !== last?.round);
  if (lost.length > 0) console.log(`aggregator: the evaluations of rounds ${lost.join(', ')} were lost with the killed run (only the latest global model is kept)`);
}

async function main(): Promise<void> {
  const model = await TfjsClassifier.create(buildMlp);
  const test = await loadTestSet();
  mkdirSync(resultsDir, { recursive: true });
  let evaluations: Promise<void> = Promise.resolve();
  // Each round's global model is evaluated off the server's path, in round order.
  const server = new AggregationServer({
    initialWeights: model.getWeights(),
    onRound: (summary, weights) => {
      const snapshot = cloneWeights(weights);
      evaluations = evaluations.then(async () => {
        const record = await evaluateRound(model, test, summary, snapshot);
        appendFileSync(roundsFile, `${JSON.stringify(record)}\n`);
        console.log(`round ${record.round}: test accuracy ${(record.accuracy * 100).toFixed(2)}% bytes sent ${record.bytesSent} (${record.closedBy})`);
      });
    },
  });
  if (server.resumedRound === 0) rmSync(roundsFile, { force: true });
  else await recordResumedRound(model, test, server);
  const port = await server.start();
  console.log(`aggregator: ${server.aggregation} on port ${port}, ${server.participantsCount} participants, ${server.exitRound} rounds, ${test.count} test images`);
  await server.done;
  await evaluations;
  const done: RoundsDone = { done: true, algorithm: server.aggregation, exitRound: server.exitRound, participants: server.participantsCount, seconds: seconds() };
  appendFileSync(roundsFile, `${JSON.stringify(done)}\n`);
  await server.finish(10_000);
  console.log(`aggregator: done after ${server.currentRound} rounds`);
}

process.once('SIGTERM', () => process.exit(0));
main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`aggregation worker failed: ${(error as Error).stack ?? String(error)}`);
    process.exit(1);
  },
);
