// Shared by the issue-5 tests: the stack fixture in its two builds, a runner
// for bpfkit's or bpftrace's CLI that leaves process control to the test
// (-c, -p, positional pids), and readers for printed stacks and maps.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { realpathSync } from 'node:fs';
import { BPFKIT } from '../lib/bt.js';
export { haveBpftrace } from '../lib/bt.js';
import { compileC } from '../lib/fixtures.js';

/** test/fixtures/stk_chain.c with frame pointers at -O0, so every frame is on the chain. */
export function stkChain(pie: boolean): string {
  const flags = ['-O0', '-fno-omit-frame-pointer', ...(pie ? ['-fPIE', '-pie'] : ['-no-pie'])];
  return realpathSync(compileC('stk_chain', flags, pie ? 'stk_chain_pie' : 'stk_chain_nopie'));
}

export interface Run {
  stdout: string;
  stderr: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Wall time from spawn to exit. */
  ms: number;
}

/** Runs bpfkit (or bpftrace) with `args`; kills it after `timeoutMs`. */
export function runCli(args: string[], opts: { tool?: 'bpfkit' | 'bpftrace'; timeoutMs?: number; onStdout?: (all: string, child: ChildProcess) => void } = {}): Promise<Run> {
  const bpftrace = opts.tool === 'bpftrace';
  const t0 = performance.now();
  const child = spawn(bpftrace ? '/usr/bin/bpftrace' : process.execPath, bpftrace ? args : [BPFKIT, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
    opts.onStdout?.(stdout, child);
  });
  child.stderr.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 20000);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ stdout, stderr, code, signal, ms: performance.now() - t0 });
    });
  });
}

/** A fixture started by the test (for -p and positional pids); stop() kills it and waits. */
export async function startProcess(bin: string, args: string[]): Promise<{ pid: number; child: ChildProcess; stop: () => Promise<void> }> {
  const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  await once(child, 'spawn');
  const exited = once(child, 'exit');
  return {
    pid: child.pid!,
    child,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

export interface PrintedEntry {
  map: string;
  /** Stack frames, one a line with the indentation removed; or the key text for one-line entries. */
  frames: string[];
  key: string;
  value: number;
}

/** Every `@name[...]: value` entry of bpftrace's text output, multi-line stack keys included. */
export function parseMaps(out: string): PrintedEntry[] {
  const entries: PrintedEntry[] = [];
  const lines = out.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^(@\w*)\[$/.exec(lines[i]);
    if (open) {
      const frames: string[] = [];
      let j = i + 1;
      for (; j < lines.length && !/^\]: /.test(lines[j]); j++) frames.push(lines[j].trim());
      entries.push({ map: open[1], frames, key: frames.join('\n'), value: Number(lines[j].slice(3)) });
      i = j;
      continue;
    }
    const one = /^(@\w*)(?:\[(.*)\])?: (-?\d+)$/.exec(lines[i]);
    if (one) entries.push({ map: one[1], frames: [], key: one[2] ?? '', value: Number(one[3]) });
  }
  return entries;
}

export interface FnInfo {
  start: number;
  /** Offsets (from the function's start) of the instruction after each call, by callee; `syscall` counts as a callee. */
  returns: Map<string, number[]>;
}

/** What objdump sees in `bin`: each function's start and its call sites' return offsets. */
export function disassemble(bin: string): Map<string, FnInfo> {
  const fns = new Map<string, FnInfo>();
  let cur: FnInfo | undefined;
  let pending: string | undefined;
  for (const line of execFileSync('objdump', ['-d', '--no-show-raw-insn', bin], { encoding: 'utf8', maxBuffer: 64 << 20 }).split('\n')) {
    const head = /^([0-9a-f]+) <([^>]+)>:$/.exec(line);
    if (head) {
      cur = { start: parseInt(head[1], 16), returns: new Map() };
      fns.set(head[2], cur);
      pending = undefined;
      continue;
    }
    const insn = /^\s*([0-9a-f]+):\t(\S+)\s*(.*)$/.exec(line);
    if (!insn || !cur) continue;
    const addr = parseInt(insn[1], 16);
    if (pending !== undefined) {
      const list = cur.returns.get(pending) ?? [];
      list.push(addr - cur.start);
      cur.returns.set(pending, list);
      pending = undefined;
    }
    if (insn[2] === 'syscall') pending = 'syscall';
    else if (insn[2] === 'call') pending = /<([^>+]+)>/.exec(insn[3])?.[1];
  }
  return fns;
}
