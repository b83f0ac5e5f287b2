// Pods die with their LC. A kubelet that is killed (kill -9, OOM) cannot stop its containers,
// and Node has no PR_SET_PDEATHSIG. So the kubelet starts one tiny /bin/sh watchdog in its own
// process group, holding the read end of a pipe whose write end only the LC holds: when the LC
// dies, for whatever reason, the kernel closes it, the watchdog reads EOF, and it stops each
// container process listed in the kubelet's process file (pid and start time, mirrored from the
// LC database) whose start time still matches, SIGTERM to its group, SIGKILL 2 s later. A
// gracefully stopped LC has stopped its pods already; the watchdog then finds the file empty.
import { type ChildProcess, spawn } from 'node:child_process';
import type { Socket } from 'node:net';

// $0 is the process file: one `<pid> <start time>` per line. It is read once, when the LC dies: a
// restarted LC writes its new containers into the same file, and the KILL pass 2 s later must not
// reach them. Field 22 of /proc/<pid>/stat is the
// start time; fields are counted after the command name's closing parenthesis (it may hold spaces).
const SCRIPT = `
cat >/dev/null
list=$(cat "$0" 2>/dev/null)
signal_all() {
  sig="$1"
  printf '%s\n' "$list" | while read -r pid start; do
    [ -n "$pid" ] || continue
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
    rest=\${stat##*) }
    set -- $rest
    shift 19
    [ "$1" = "$start" ] && { kill "-$sig" "-$pid" 2>/dev/null; kill "-$sig" "$pid" 2>/dev/null; }
  done
  return 0
}
signal_all TERM
sleep 2
signal_all KILL
`;

/** Starts the watchdog over `processFile`; it lives until this process dies. */
export function startReaper(processFile: string): ChildProcess {
  const child = spawn('/bin/sh', ['-c', SCRIPT, processFile], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
  child.on('error', () => {});
  // Neither the child nor the pipe keeps the LC's event loop alive.
  child.unref();
  (child.stdin as unknown as Socket | null)?.unref();
  return child;
}
