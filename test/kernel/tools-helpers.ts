// Shared by the tools-*.test.ts kernel tests: start `bpfkit TOOL ...`, wait
// for its header, run workloads the test controls, stop it with SIGINT and
// hand back what it printed; plus the tools' workload binary and a loop
// device for block I/O.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BPFKIT, workload } from '../lib/bt.js';
import { compileC } from '../lib/fixtures.js';

export const TOOL_WL_COMM = 'bpfkit_tl';

let toolWlPath: string | undefined;
/** test/fixtures/tool_wl.c; its comm is TOOL_WL_COMM. */
export function toolWorkload(): string {
  toolWlPath ??= compileC('tool_wl', ['-pthread'], TOOL_WL_COMM);
  return toolWlPath;
}

export { workload };

export interface Proc {
  pid: number;
  /** Lets a held workload start (it waits for a line on stdin). */
  go(): void;
  /** Resolves with stdout once the process has exited. */
  done: Promise<{ code: number | null; stdout: string }>;
}

/** Starts a workload held at its first read of stdin; go() releases it. */
export function startHeld(bin: string, args: string[], opts: { uid?: number; gid?: number; cwd?: string } = {}): Proc {
  const child = spawn(bin, args, { stdio: ['pipe', 'pipe', 'inherit'], uid: opts.uid, gid: opts.gid, cwd: opts.cwd });
  let stdout = '';
  child.stdout!.on('data', (d) => (stdout += d));
  const done = new Promise<{ code: number | null; stdout: string }>((resolve) => child.on('close', (code) => resolve({ code, stdout })));
  return { pid: child.pid!, go: () => child.stdin!.end('go\n'), done };
}

/** Starts a held workload and waits until it sits in its first read of stdin: its loader's work is done. */
export async function heldReady(bin: string, args: string[], opts: { uid?: number; gid?: number; cwd?: string } = {}): Promise<Proc> {
  const p = startHeld(bin, args, opts);
  for (let i = 0; i < 500; i++) {
    try {
      if (/^0 /.test(readFileSync(`/proc/${p.pid}/syscall`, 'utf8'))) return p;
    } catch {
      /* not there yet */
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`workload ${p.pid} never blocked in read`);
}

/** Releases a held workload and waits for its exit. */
export async function release(p: Proc): Promise<{ code: number | null; stdout: string }> {
  p.go();
  return p.done;
}

/** Runs a workload to completion (released at once). */
export async function runWl(bin: string, args: string[], opts: { uid?: number; gid?: number; cwd?: string } = {}): Promise<{ pid: number; code: number | null; stdout: string }> {
  const p = startHeld(bin, args, opts);
  p.go();
  const r = await p.done;
  return { pid: p.pid, ...r };
}

export interface ToolRun {
  stdout: string;
  stderr: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  lines: string[];
}

export interface ToolOpts {
  /** Output that means the tool is attached (default: a first complete line). */
  ready?: RegExp;
  /** For tools that print nothing until they have data: start the work this long after launch instead. */
  readyAfterMs?: number;
  /** Runs once the tool is ready; the tool is interrupted when it resolves (unless interrupt is false). */
  work?: () => Promise<unknown>;
  /** Milliseconds between the end of the work and SIGINT (default 400). */
  settleMs?: number;
  /** Send SIGINT after the work (default true); tools stopping by themselves set false. */
  interrupt?: boolean;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  /**
   * Write the tool's stdout to a file, not a pipe: node's pipes to children
   * are UNIX sockets, which a tool tracing those would see itself through.
   */
  viaFile?: boolean;
}

/** Runs `bpfkit TOOL args` around `work`. */
export function runTool(tool: string, args: string[], opts: ToolOpts = {}): Promise<ToolRun> {
  return new Promise((resolve, reject) => {
    const outDir = opts.viaFile ? mkdtempSync(join(tmpdir(), 'bpfkit-out-')) : undefined;
    const outFd = outDir ? openSync(join(outDir, 'stdout'), 'w+') : undefined;
    const child: ChildProcess = spawn(process.execPath, [BPFKIT, tool, ...args], {
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', outFd ?? 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let started = false;
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30000);
    const ready = opts.ready ?? /\n/;
    const begin = () => {
      if (started) return;
      started = true;
      // BEGIN prints the header after every probe is attached; a moment more lets the ring settle.
      setTimeout(async () => {
        try {
          await opts.work?.();
        } catch (e) {
          child.kill('SIGKILL');
          reject(e);
          return;
        }
        if (opts.interrupt !== false) setTimeout(() => child.kill('SIGINT'), opts.settleMs ?? 400);
      }, 100);
    };
    const readFile = () => (outDir ? readFileSync(join(outDir, 'stdout'), 'utf8') : stdout);
    const poll = outDir
      ? setInterval(() => {
          if (opts.readyAfterMs === undefined && ready.test(readFile())) begin();
        }, 50)
      : undefined;
    child.stdout?.on('data', (d) => {
      stdout += d;
      if (opts.readyAfterMs === undefined && ready.test(stdout)) begin();
    });
    child.stderr!.on('data', (d) => (stderr += d));
    if (opts.readyAfterMs !== undefined) setTimeout(begin, opts.readyAfterMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (poll) clearInterval(poll);
      const out = readFile();
      if (outFd !== undefined) closeSync(outFd);
      if (outDir) rmSync(outDir, { recursive: true, force: true });
      resolve({ stdout: out, stderr, code, signal, lines: out.split('\n').filter((l, i, a) => l !== '' || i < a.length - 1) });
    });
  });
}

/** Runs the CLI to completion without a workload (help, --program, errors). */
export function bpfkit(args: string[]): { stdout: string; stderr: string; code: number } {
  try {
    const stdout = execFileSync(process.execPath, [BPFKIT, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30000 });
    return { stdout, stderr: '', code: 0 };
  } catch (e) {
    const x = e as { stdout?: string; stderr?: string; status?: number };
    return { stdout: x.stdout ?? '', stderr: x.stderr ?? '', code: x.status ?? 1 };
  }
}

/** Splits a line into whitespace-separated columns. */
export function cols(line: string): string[] {
  return line.trim().split(/\s+/);
}

/** A file-backed loop device for block I/O tests; release() detaches it. */
export function loopDevice(sizeMiB = 16): { dev: string; name: string; release(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'bpfkit-loop-'));
  const img = join(dir, 'disk.img');
  writeFileSync(img, Buffer.alloc(0));
  execFileSync('truncate', ['-s', `${sizeMiB}M`, img]);
  const dev = execFileSync('losetup', ['-f', '--show', img], { encoding: 'utf8' }).trim();
  return {
    dev,
    name: dev.replace('/dev/', ''),
    release() {
      try {
        execFileSync('losetup', ['-d', dev]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** A free TCP port on 127.0.0.1 (bound once, then released). */
export async function freePort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export interface BpfIds {
  progs: number[];
  maps: number[];
  links: number[];
}

/** The BPF programs, maps and links process `pid` holds open, from its fdinfo. */
export function bpfIdsOf(pid: number): BpfIds {
  const ids: BpfIds = { progs: [], maps: [], links: [] };
  let fds: string[] = [];
  try {
    fds = readdirSync(`/proc/${pid}/fdinfo`);
  } catch {
    return ids;
  }
  for (const fd of fds) {
    let info = '';
    try {
      info = readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8');
    } catch {
      continue;
    }
    const link = /^link_id:\s*(\d+)/m.exec(info);
    const prog = /^prog_id:\s*(\d+)/m.exec(info);
    const map = /^map_id:\s*(\d+)/m.exec(info);
    if (link) ids.links.push(Number(link[1]));
    else if (prog) ids.progs.push(Number(prog[1]));
    else if (map) ids.maps.push(Number(map[1]));
  }
  return ids;
}

/** Which of `ids` the kernel still has (bpftool's listings). */
export function stillLoaded(ids: BpfIds): BpfIds {
  const list = (what: string): Set<number> => {
    const out = execFileSync('bpftool', ['-j', what, 'show'], { encoding: 'utf8' });
    return new Set((JSON.parse(out || '[]') as { id: number }[]).map((x) => x.id));
  };
  const progs = list('prog');
  const maps = list('map');
  const links = list('link');
  return { progs: ids.progs.filter((i) => progs.has(i)), maps: ids.maps.filter((i) => maps.has(i)), links: ids.links.filter((i) => links.has(i)) };
}
