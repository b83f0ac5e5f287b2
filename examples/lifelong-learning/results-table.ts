// The scenario's figures as a text table (printed by run.ts, pasted into the README).
import type { LifelongResults } from './scenario.ts';

const pct = (v: number): string => `${(100 * v).toFixed(1)}%`;

export function resultsTable(r: LifelongResults): string {
  const lines = ['camera     condition                                                          before   after   change'];
  for (const [camera, t] of Object.entries(r.tasks)) {
    const mark = r.cameras[camera]?.known === 'from the stream' ? ' (new)' : '';
    lines.push(`${(camera + mark).padEnd(10)} ${(r.cameras[camera]?.condition ?? '').slice(0, 66).padEnd(66)} ${pct(t.accuracyBefore).padStart(6)}  ${pct(t.accuracyAfter).padStart(6)}  ${((t.accuracyAfter - t.accuracyBefore) * 100).toFixed(1).padStart(6)} pt`);
  }
  const d = r.unseenDetection;
  lines.push('', `unseen detection  attribute path: precision ${pct(d.attribute.precision)}, recall ${pct(d.attribute.recall)}`);
  lines.push(`                  model path:     precision ${pct(d.model.precision)}, recall ${pct(d.model.recall)} (${d.model.flagged} flagged of ${d.model.streamSamples}; ${d.model.unseenInStream} unseen)`);
  lines.push(`BWT ${(100 * r.bwt).toFixed(2)} pt   FWT ${(100 * r.fwt).toFixed(2)} pt   (Lopez-Paz & Ranzato 2017)`);
  lines.push(`new camera after the hot update: ${pct(r.newCamera.servedByOwnTaskAfterUpdate)} of its test images served by its own task, ${pct(r.newCamera.flaggedUnseenAfterUpdate)} still flagged unseen`);
  lines.push(`knowledge base: ${r.knowledgeBase.tasks.length} tasks, ${r.knowledgeBase.models.reduce((n, g) => n + g.models, 0)} models in ${r.knowledgeBase.models.length} groups`);
  return lines.join('\n');
}
