// The language table's runner (lang-table-*.test.ts): each case is a program
// with its exact expected stdout. It runs on the real kernel under bpfkit and,
// where Debian's bpftrace 0.17 can run the same program, under bpftrace too,
// whose stdout must then be byte-for-byte the same. Programs that need events
// get them from the workload (comm bpfkit_wl) and filter on that comm, so
// counts are exact. After the table, no program or map of ours may remain.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { haveBpftrace, trace, workload, type TraceRun } from '../lib/bt.js';
import { isRoot } from '../lib/fixtures.js';
import { spawnSync } from 'node:child_process';
import { bpftool, restoreTracefs, tracefsMountCount } from './bpf-helpers.js';

export interface Case {
  name: string;
  /** The program; `$WL` stands for the workload binary's path. */
  prog: string;
  /** Exact stdout. `{YEAR}` is the current year, `{PID}` the workload's pid. */
  expect: string;
  /** Exit code (default 0). */
  code?: number;
  /** Exact stderr, when the case is about it (otherwise stderr is not checked). */
  stderr?: string;
  /** Also run Debian's bpftrace 0.17 and require the same stdout and exit code. */
  bt?: boolean;
  /** Workload actions run once the probes are attached. */
  workload?: string[];
  positional?: string[];
  flags?: string[];
  env?: Record<string, string>;
  /** Send SIGINT after the workload (default true when there is a workload). */
  interrupt?: boolean;
  /** Run the program from an executable script file rather than with -e. */
  file?: boolean;
}

const WL = (): string => workload();
const sub = (s: string): string => s.replaceAll('$WL', WL());

let scriptDir: string | undefined;
function scriptFile(prog: string): string {
  scriptDir ??= mkdtempSync(join(tmpdir(), 'bpfkit-lang-'));
  const p = join(scriptDir, `s${readdirSync(scriptDir).length}.bt`);
  writeFileSync(p, prog);
  chmodSync(p, 0o755);
  return p;
}

async function run(c: Case, tool: 'bpfkit' | 'bpftrace'): Promise<TraceRun> {
  const prog = sub(c.prog);
  return trace(prog, {
    tool,
    workload: c.workload?.map(sub),
    positional: c.positional,
    flags: c.flags,
    env: c.env,
    interrupt: c.interrupt,
    script: c.file ? scriptFile(prog) : undefined,
  });
}

function expected(c: Case, r: TraceRun): string {
  return c.expect.replaceAll('{YEAR}', String(new Date().getFullYear())).replaceAll('{PID}', String(r.workloadPid ?? '?'));
}

/** bpftrace's stderr, without the RLIMIT_MEMLOCK complaint it prints on every run here. */
const btStderr = (s: string): string => s.replace(/^.*RLIMIT_MEMLOCK.*\n?/m, '');

async function check(c: Case): Promise<void> {
  const r = await run(c, 'bpfkit');
  const ctx = `${c.prog}\nstderr: ${r.stderr}`;
  assert.equal(r.stdout, expected(c, r), ctx);
  assert.equal(r.code, c.code ?? 0, ctx);
  if (c.stderr !== undefined) assert.equal(r.stderr, c.stderr, ctx);
  if (c.bt && haveBpftrace()) {
    ensureTracefs();
    const b = await run(c, 'bpftrace');
    const bctx = `bpftrace: ${c.prog}\nstderr: ${btStderr(b.stderr)}`;
    // Pids differ between the two runs; everything else must not.
    assert.equal(b.stdout.replaceAll(String(b.workloadPid), '{PID}'), r.stdout.replaceAll(String(r.workloadPid), '{PID}'), bctx);
    assert.equal(b.code, r.code, bctx);
  }
}

/** bpftrace 0.17 reads tracepoint formats from tracefs and does not mount it itself. */
function ensureTracefs(): void {
  if (tracefsMountCount() === 0) spawnSync('mount', ['-t', 'tracefs', 'tracefs', '/sys/kernel/tracing']);
}

// ------------------------------------------------------------------ leaks

/** Ids of BPF programs and maps some live process holds an fd to. */
function heldByProcesses(): { progs: Set<number>; maps: Set<number> } {
  const progs = new Set<number>();
  const maps = new Set<number>();
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fdinfo`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let info: string;
      try {
        info = readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8');
      } catch {
        continue;
      }
      const p = /^prog_id:\s+(\d+)/m.exec(info);
      if (p) progs.add(Number(p[1]));
      const m = /^map_id:\s+(\d+)/m.exec(info);
      if (m) maps.add(Number(m[1]));
    }
  }
  return { progs, maps };
}

interface ProgInfo { id: number; name?: string; map_ids?: number[] }
interface MapInfo { id: number; name?: string }

/** bpfkit and bpftrace name programs after the probe (`BEGIN`, `tracepoint_sysca`...) and maps `AT_*`. */
const OUR_PROG = /^(BEGIN|END|begin|end|tracepoint_|t_|rawtracepoint|interval|i_|uprobe|uretprobe|kprobe|kretprobe)/;
const OUR_MAP = /^AT_/;

/**
 * Programs and maps named like ours, created since `base`, that no process
 * holds any more (and, for maps, that no such program uses): leaks.
 */
function orphans(base: { progs: Set<number>; maps: Set<number> }): { progs: string[]; maps: string[] } {
  const held = heldByProcesses();
  const progs = bpftool<ProgInfo[]>('prog', 'show');
  const live = new Set<number>();
  for (const p of progs) if (held.progs.has(p.id)) for (const m of p.map_ids ?? []) live.add(m);
  const lp = progs.filter((p) => !base.progs.has(p.id) && OUR_PROG.test(p.name ?? '') && !held.progs.has(p.id));
  const lm = bpftool<MapInfo[]>('map', 'show').filter((m) => !base.maps.has(m.id) && OUR_MAP.test(m.name ?? '') && !held.maps.has(m.id) && !live.has(m.id));
  return { progs: lp.map((p) => `${p.id}:${p.name}`), maps: lm.map((m) => `${m.id}:${m.name}`) };
}

/**
 * Registers the table: cases without a workload run `concurrency` at a time
 * (they cannot see each other's events), cases with one run one after
 * another (they share the workload's comm). Ends with the leak check.
 */
export function runTable(title: string, cases: Case[], opts: { concurrency?: number } = {}): void {
  const skip = isRoot() ? false : 'needs root to load BPF programs';
  let base = { progs: new Set<number>(), maps: new Set<number>() };
  const tracefsBefore = tracefsMountCount();
  before(() => {
    if (skip) return;
    base = {
      progs: new Set(bpftool<ProgInfo[]>('prog', 'show').map((p) => p.id)),
      maps: new Set(bpftool<MapInfo[]>('map', 'show').map((m) => m.id)),
    };
  });
  after(() => {
    restoreTracefs(tracefsBefore);
    if (scriptDir) rmSync(scriptDir, { recursive: true, force: true });
  });
  const names = new Set<string>();
  for (const c of cases) {
    assert.ok(!names.has(c.name), `duplicate case name: ${c.name}`);
    names.add(c.name);
  }
  describe(`${title}: programs`, { concurrency: opts.concurrency ?? 1, skip }, () => {
    for (const c of cases.filter((x) => !x.workload)) test(c.name, () => check(c));
  });
  describe(`${title}: programs with a workload`, { concurrency: 1, skip }, () => {
    for (const c of cases.filter((x) => x.workload)) test(c.name, () => check(c));
  });
  test(`${title}: no program or map outlives its tracer`, { skip }, async () => {
    // The kernel frees objects after their last reference drops, partly from
    // deferred work: poll until they are gone, with a generous deadline.
    let left = orphans(base);
    for (let i = 0; i < 50 && left.progs.length + left.maps.length > 0; i++) {
      await sleep(200);
      left = orphans(base);
    }
    assert.deepEqual(left, { progs: [], maps: [] });
  });
}
