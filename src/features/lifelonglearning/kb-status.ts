// `status.knowledgeBase` of a LifelongLearningJob from real counts. Sedna's GM rebuilt it from
// fields of the reported models (`classes`, `current_metric`, `number_of_labeled_unseen_sample`)
// that its own library never sends, so the status stayed empty. Here the GM asks the knowledge
// base (`POST /knowledgebase/query`) when a Train or Eval stage completes: the models are the task
// groups of the current index with their current model, scores and training-sample counts, the
// classes those models predict, and the labelled unseen samples the samples recorded with
// data_type "unseen". Unlabelled unseen samples live on the edge, not in the KB: the count the
// worker reports (`number_of_unseen_sample`) is kept. When the KB cannot be reached the reported
// models are read as Sedna does, so a KB outage delays the counts but loses no report.
import { readFileSync } from 'node:fs';
import type { KbQueryResult } from '../../api/kb-index.ts';
import type { KnowledgeBaseStatus } from '../../api/sedna/lifelong-learning-job.ts';
import type { GmConfig } from '../../gm/config.ts';
import type { StageModel } from '../incrementallearning/data.ts';
import type { KbAccess } from './workers.ts';

const QUERY_PAGE = 1000;
/** Pages read at most: a knowledge base of more groups is reported on its first 20,000. */
const MAX_PAGES = 20;

/** The KB URL and token the GM hands workers (the token file is read each time: it may be rotated). */
export function kbAccessOf(config: GmConfig): KbAccess {
  const file = config.knowledgeBaseServer.tokenFile;
  return { server: config.knowledgeBaseServer.server, token: file ? readFileSync(file, 'utf8').trim() : '' };
}

/** Every page of the KB's query answer. */
export async function queryKnowledgeBase(kb: KbAccess, timeoutMs = 5_000): Promise<KbQueryResult> {
  const all: KbQueryResult = { tasks: [], groups: [], samplesByType: {} };
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const res = await fetch(`${kb.server.replace(/\/+$/, '')}/knowledgebase/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(kb.token ? { authorization: `Bearer ${kb.token}` } : {}) },
      body: JSON.stringify({ offset: page * QUERY_PAGE, limit: QUERY_PAGE }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!res.ok) throw new Error(`knowledge base ${kb.server} answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
    const body = (await res.json()) as KbQueryResult;
    all.tasks.push(...body.tasks);
    all.groups.push(...body.groups);
    all.samplesByType = body.samplesByType;
    if (body.tasks.length < QUERY_PAGE && body.groups.length < QUERY_PAGE) break;
  }
  return all;
}

function firstScore(scores: Record<string, unknown> | null | undefined): number {
  const value = Object.values(scores ?? {}).find((v) => typeof v === 'number');
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : 0;
}

/** Unlabelled unseen samples the workers reported, else what the status already had. */
export function reportedUnseen(models: readonly StageModel[], previous: KnowledgeBaseStatus | undefined): number {
  const reported = models.filter((m) => m.number_of_unseen_sample !== undefined);
  if (reported.length === 0) return previous?.samples.numberOfUnseenSample ?? 0;
  return reported.reduce((n, m) => n + count(m.number_of_unseen_sample), 0);
}

/** The status from the KB's answer. */
export function knowledgeBaseFromQuery(result: KbQueryResult, unseen: number): KnowledgeBaseStatus {
  const groups = result.groups.filter((g) => g.inIndex !== null && g.models.some((m) => m.isCurrent));
  const classes = [...new Set(groups.flatMap((g) => g.classes ?? []))].sort();
  return {
    AIModels: {
      numberOfAIModels: groups.length,
      listOfAIModels: groups.map((g) => ({ modelID: g.name, averagePrecision: firstScore(g.scores), numberOfTrainSamples: g.sampleNum })),
    },
    AIClasses: { numberOfAIClasses: classes.length, listOfAIClasses: classes },
    samples: { numberOfLabeledUnseenSample: result.samplesByType.unseen ?? 0, numberOfUnseenSample: unseen },
  };
}

/** Sedna's rule on the reported models (used when the KB is unreachable); undefined when none were reported. */
export function knowledgeBaseFromModels(models: readonly StageModel[], previous: KnowledgeBaseStatus | undefined): KnowledgeBaseStatus | undefined {
  if (models.length === 0) return undefined;
  const classes = Array.isArray(models[0]!.classes) ? (models[0]!.classes as unknown[]).filter((c): c is string => typeof c === 'string') : [];
  const list = models.flatMap((m) =>
    Object.entries((m.current_metric ?? {}) as Record<string, Record<string, unknown>>).map(([modelID, metrics]) => ({
      modelID,
      averagePrecision: firstScore(metrics),
      numberOfTrainSamples: count(m.number_of_labeled_unseen_sample),
    })),
  );
  return {
    AIModels: { numberOfAIModels: list.length, listOfAIModels: list },
    AIClasses: { numberOfAIClasses: classes.length, listOfAIClasses: classes },
    samples: {
      numberOfLabeledUnseenSample: models.reduce((n, m) => n + count(m.number_of_labeled_unseen_sample), 0),
      numberOfUnseenSample: reportedUnseen(models, previous),
    },
  };
}
