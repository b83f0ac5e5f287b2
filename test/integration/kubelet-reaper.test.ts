// Pods die with their LC: a process that started the watchdog (as the kubelet does) is killed
// with SIGKILL; the watchdog then stops every process in the process file whose start time
// matches, with its process group, and spares a listed pid whose start time does not (a recycled
// pid). Real processes, no sleeps: polling waits only.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { identify, isSameProcess } from '../../src/lib/proc.ts';
import { until } from '../helpers/wait.ts';

const REAPER = resolve(import.meta.dirname, '../../src/lc/kubelet/reaper.ts');

function sleeper(withChild = false): ChildProcess {
  const code = withChild ? `require('node:child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' }); setInterval(() => {}, 1000)` : 'setInterval(() => {}, 1000)';
  return spawn(process.execPath, ['-e', code], { detached: true, stdio: 'ignore' });
}

describe('the pod watchdog (reaper.ts)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sedna-reaper-'));
  const started: ChildProcess[] = [];

  after(() => {
    for (const c of started) {
      try {
        process.kill(-c.pid!, 'SIGKILL');
      } catch {
        // gone
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('stops the listed processes and their groups when its LC is killed, and only those', async () => {
    const pod = sleeper(true);
    const spared = sleeper();
    started.push(pod, spared);
    await until(() => identify(pod.pid!) !== undefined && identify(spared.pid!) !== undefined, 'sleepers started');
    const podId = identify(pod.pid!)!;
    const sparedId = identify(spared.pid!)!;
    const file = join(dir, 'pod-processes');
    // The spared one is listed with another start time: a pid that was recycled.
    writeFileSync(file, `${podId.pid} ${podId.startTime}\n${sparedId.pid} ${Number(sparedId.startTime) + 1}\n`);
    const lc = spawn(process.execPath, ['--import', 'tsx', '-e', `const { startReaper } = await import(${JSON.stringify(REAPER)}); startReaper(${JSON.stringify(file)}); console.log('ready'); setInterval(() => {}, 1000)`], { stdio: ['ignore', 'pipe', 'inherit'] });
    started.push(lc);
    let out = '';
    lc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await until(() => out.includes('ready'), 'the LC stand-in started its watchdog', 30_000);
    assert.ok(isSameProcess(podId), 'the pod runs while its LC does');
    lc.kill('SIGKILL');
    await until(() => !isSameProcess(podId), 'the pod process stopped after its LC was killed', 15_000);
    assert.ok(isSameProcess(sparedId), 'a process whose start time differs is not touched');
    // Its group went too: no process is left in the pod's group.
    await until(() => {
      try {
        process.kill(-podId.pid, 0);
        return false;
      } catch {
        return true;
      }
    }, 'the pod process group empty', 15_000);
  });
});
