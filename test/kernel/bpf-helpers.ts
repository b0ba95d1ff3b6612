// Shared by the bpf-*.test.ts kernel tests: workloads that wait for a go
// signal on stdin (so probes are attached before the first event), and
// leaving tracefs mounted or not as the test found it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';

export interface Workload {
  child: ChildProcess;
  pid: number;
  /** Lets the workload start. */
  go(): void;
  /** Resolves when it exits; rejects if it exits non-zero. */
  done: Promise<void>;
}

/** Starts `bin` with `args`; it blocks reading one byte from stdin until go(). */
export function startWorkload(bin: string, args: string[] = []): Workload {
  const child = spawn(bin, args, { stdio: ['pipe', 'inherit', 'inherit'] });
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${bin} exited with ${signal ?? code}`));
    });
  });
  if (child.pid === undefined) throw new Error(`could not start ${bin}`);
  return {
    child,
    pid: child.pid,
    go: () => {
      child.stdin!.end('g');
    },
    done,
  };
}

/** A name prefix (for BPF objects) no other test run uses: `p` + 6 hex digits. */
export function uniquePrefix(p: string): string {
  return `${p}${randomBytes(3).toString('hex')}`;
}

export function tracefsMountCount(at = '/sys/kernel/tracing'): number {
  return readFileSync('/proc/mounts', 'utf8').split('\n')
    .filter((l) => l.split(' ')[1] === at && l.split(' ')[2] === 'tracefs').length;
}

/** Unmounts the tracefs mounts added since `before` (best effort: busy means someone uses it). */
export function restoreTracefs(before: number, at = '/sys/kernel/tracing'): void {
  for (let n = tracefsMountCount(at); n > before; n--) {
    if (spawnSync('umount', [at]).status !== 0) break;
  }
}

/** JSON from bpftool (prog/map/link show). */
export function bpftool<T = unknown>(...args: string[]): T {
  const r = spawnSync('bpftool', ['-j', ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`bpftool ${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout || '[]') as T;
}
