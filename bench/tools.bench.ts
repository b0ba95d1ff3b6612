// The tools: start-up of `bpfkit opensnoop` (launch to its header, i.e.
// attached) against Debian's `bpftrace opensnoop.bt` and, where installed,
// BCC's opensnoop-bpfcc; and the in-kernel cost of opensnoop's programs per
// open() under an open() loop (kernel.bpf_stats counters of the programs
// each tracer holds). Ratios are bpfkit/bpftrace.
// BENCH_QUICK=1 runs fewer repetitions.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { enableStats } from '../src/bpf/program.js';
import { close } from '../src/bpf/sys.js';
import { untrackFd } from '../src/bpf/fds.js';
import { BPFKIT, BPFTRACE, benchEnv, haveBpftrace, median, progStats, runOnce, runWorkload, sleep, type Row, quick, log } from './lib/proc.js';


/** Debian installs bpftrace's tools in /usr/sbin (the upstream tools/ directory elsewhere). */
const BPFTRACE_OPENSNOOP = ['/usr/sbin/opensnoop.bt', '/usr/share/bpftrace/tools/opensnoop.bt'].find((p) => existsSync(p));
const BCC_OPENSNOOP = ['/usr/sbin/opensnoop-bpfcc', '/usr/share/bcc/tools/opensnoop'].find((p) => existsSync(p));

type Who = 'bpfkit' | 'bpftrace' | 'bcc';

function argv(who: Who): string[] {
  if (who === 'bpfkit') return [process.execPath, BPFKIT, 'opensnoop'];
  if (who === 'bpftrace') return [BPFTRACE, BPFTRACE_OPENSNOOP!];
  return [BCC_OPENSNOOP!];
}

function contenders(): Who[] {
  const out: Who[] = ['bpfkit'];
  if (haveBpftrace() && BPFTRACE_OPENSNOOP) out.push('bpftrace');
  if (BCC_OPENSNOOP) out.push('bcc');
  return out;
}

/** Every opensnoop's column header starts so; all print it once attached. */
const HEADER = 'PID    COMM';

function startup(rows: Row[]): void {
  const runs = quick ? 5 : 15;
  const who = contenders();
  const times = new Map<Who, number[]>(who.map((w) => [w, []]));
  const rss = new Map<Who, number[]>(who.map((w) => [w, []]));
  for (const w of who) runOnce(argv(w), HEADER);
  for (let i = 0; i < runs; i++) {
    for (const w of who) {
      const r = runOnce(argv(w), HEADER);
      times.get(w)!.push(r.untilMs);
      rss.get(w)!.push(r.maxRssKb / 1024);
    }
  }
  const ref = (m: Map<Who, number[]>) => (m.has('bpftrace') ? median(m.get('bpftrace')!) : undefined);
  rows.push({ name: 'opensnoop: launch to header (attached), median', value: median(times.get('bpfkit')!), unit: 'ms', ref: ref(times) });
  rows.push({ name: 'opensnoop: peak RSS', value: median(rss.get('bpfkit')!), unit: 'MiB', ref: ref(rss) });
  if (times.has('bcc')) {
    rows.push({ name: 'opensnoop-bpfcc: launch to header, median', value: median(times.get('bcc')!), unit: 'ms' });
    rows.push({ name: 'opensnoop: bpfkit / opensnoop-bpfcc start-up', value: median(times.get('bpfkit')!) / median(times.get('bcc')!), unit: 'x' });
  } else log('opensnoop-bpfcc is not installed: no BCC comparison');
}

/** ns of BPF program time per open() while `who`'s opensnoop runs and a workload opens a file n times. */
async function perOpen(who: Who, n: number): Promise<number> {
  const [cmd, ...args] = argv(who);
  const child = spawn(cmd, args, { env: benchEnv(), stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  child.stdout!.setEncoding('latin1');
  const header = new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: string) => {
      // Only the start is kept: the rest is drained and dropped.
      if (out.length < 4096) {
        out += d;
        if (out.includes(HEADER)) resolve();
      }
    });
    child.on('close', () => reject(new Error(`${who} exited before its header`)));
  });
  const exited = new Promise((r) => child.on('close', r));
  try {
    await header;
    await sleep(200);
    const s0 = progStats(child.pid!);
    await runWorkload(['open', '/etc/hostname', String(n)]);
    await sleep(200);
    const s1 = progStats(child.pid!);
    const runs = s1.runCnt - s0.runCnt;
    if (runs <= 0) throw new Error(`${who}: no program runs counted`);
    // Each open() runs one entry and one exit program.
    return (s1.runTimeNs - s0.runTimeNs) / (runs / 2);
  } finally {
    child.kill('SIGINT');
    await exited;
  }
}

async function inKernel(rows: Row[]): Promise<void> {
  const statsFd = enableStats();
  try {
    const n = quick ? 100_000 : 300_000;
    const who = contenders().filter((w) => w !== 'bcc');
    const got = new Map<Who, number[]>(who.map((w) => [w, []]));
    for (let i = 0; i < (quick ? 1 : 3); i++) for (const w of who) got.get(w)!.push(await perOpen(w, n));
    log(`opensnoop per open(): ${who.map((w) => `${w} ${got.get(w)!.map((x) => x.toFixed(0)).join('/')}`).join(', ')}`);
    rows.push({ name: 'opensnoop: in-kernel time per open() (entry + exit)', value: median(got.get('bpfkit')!), unit: 'ns/event', ref: got.has('bpftrace') ? median(got.get('bpftrace')!) : undefined });
  } finally {
    untrackFd(statsFd);
    close(statsFd);
  }
}

export async function run(): Promise<Row[]> {
  const rows: Row[] = [];
  if (!existsSync(join(BPFKIT))) throw new Error('build first: bin/bpfkit not found');
  startup(rows);
  await inKernel(rows);
  return rows;
}
