// Running a bpftrace program from the command line: compile, report
// diagnostics, optional debug dumps, attach, run until exit()/Ctrl-C/SIGTERM
// or the traced command's exit, then END and the maps.
import { cacheCheckpoint, noteRun } from './cachetags.js';
import { readFileSync, openSync, writeSync, closeSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { childProcess } from '../lazy.js';
import { compile } from '../compile.js';
import { loadProvidersFor } from '../probes/index.js';
import { CompileError } from '../lang/diagnostics.js';
import { parse } from '../lang/parser.js';
import { Session, LoadError } from '../runtime/session.js';
import { makeSink, printsUserSymbols } from '../runtime/printer.js';
import { numPossibleCpus } from '../bpf/cpus.js';
import { kaddr } from '../symbols/kallsyms.js';
import { findExecutable, isExecutableFile } from '../symbols/path.js';
import type { CliArgs } from './args.js';
import { envOptions } from './args.js';
import { batched } from './batch.js';

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

function readSource(args: CliArgs): { source: string; file: string } {
  if (args.program !== undefined) return { source: args.program, file: 'stdin' };
  if (args.file === '-') return { source: readFileSync(0, 'utf8'), file: 'stdin' };
  if (args.file) {
    try {
      return { source: readFileSync(args.file, 'utf8'), file: args.file };
    } catch {
      throw new CliFailure(`ERROR: failed to open file '${args.file}': No such file or directory`);
    }
  }
  throw new CliFailure('USAGE: filename or -e \'program\' required.');
}

export class CliFailure extends Error {
  constructor(message: string, readonly code = 1) {
    super(message);
  }
}

/** Splits a -c command line like a shell would for plain words and quotes, without running a shell. */
export function splitCommand(cmd: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: string | null = null;
  let has = false;
  for (let i = 0; i < cmd.length; i++) {
    const c = cmd[i];
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"' && i + 1 < cmd.length) cur += cmd[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      has = true;
    } else if (c === '\\' && i + 1 < cmd.length) {
      cur += cmd[++i];
      has = true;
    } else if (/\s/.test(c)) {
      if (has || cur) out.push(cur);
      cur = '';
      has = false;
    } else cur += c;
  }
  if (has || cur) out.push(cur);
  return out;
}

export async function runTrace(args: CliArgs, io: Io): Promise<number> {
  const { source, file } = readSource(args);
  let outFd: number | undefined;
  const outFile = args.output
    ? (() => {
        outFd = openSync(args.output!, 'w');
        return batched((s: string) => writeSync(outFd!, s));
      })()
    : undefined;
  const write = outFile ? (s: string) => outFile.write(s) : io.out;
  let child: ChildProcess | undefined;
  let released = false;
  try {
    const ast = parse(source, file);
    if (args.debug.has('ast') || args.debug.has('all')) io.err((await import('../lang/printer.js')).printAst(ast));
    await loadProvidersFor(ast);
    let cpid: number | undefined;
    const opts = {
      ...envOptions(process.env),
      unsafe: args.unsafe,
      positional: args.positional,
      ncpus: safeCpus(),
      pid: args.pid,
      startNs: process.hrtime.bigint(),
      helperErrors: args.helperErrors,
      resolveKaddr: (n: string) => {
        try {
          const a = kaddr(n);
          return a === 0n ? undefined : a;
        } catch {
          return undefined;
        }
      },
    };
    if (args.pid !== undefined && !alive(args.pid)) throw new CliFailure(`ERROR: pid ${args.pid}: No such process`);
    if (args.cmd) {
      // The child is started stopped-in-spirit: it waits on a pipe until every probe is attached.
      const argv = splitCommand(args.cmd);
      if (!argv.length) throw new CliFailure('ERROR: -c needs a command');
      if (!findCommand(argv[0])) throw new CliFailure(`ERROR: Failed to fork child: path '${argv[0]}' does not exist or is not executable`);
      child = startHeld(argv);
      cpid = child.pid;
    }
    const compiled = compile(source, file, { ...opts, cpid }, ast);
    noteRun('trace', `f:${args.format}`, ...compiled.probes.map((p) => `p:${p.target.provider}`));
    for (const w of compiled.warnings) if (args.warnings) io.err(new CompileError([w], file, source).message);
    if (args.debug.has('codegen') || args.debug.has('all')) {
      const { disassemble } = await import('../bpf/asm/disasm.js');
      for (const p of compiled.probes) {
        io.err(`; ${p.target.name}\n`);
        io.err(disassemble(p.code.insns, {
          annotate: (o) => (o as { text?: string; loc?: { line: number; col: number } })?.loc ? `${(o as { text: string }).text ?? ''} at ${file}:${(o as { loc: { line: number } }).loc.line}:${(o as { loc: { col: number } }).loc.col}` : undefined,
        }));
      }
    }
    if (args.dryRun) {
      child?.kill('SIGKILL');
      return 0;
    }
    const userSymbols = printsUserSymbols(compiled) ? (await import('../symbols/usym.js')).resolveUser : undefined;
    const sink = makeSink(args.format, write, { quiet: args.quiet, file, source, warnings: args.warnings, userSymbols });
    const session = new Session(compiled, sink, {
      verifierLog: args.debug.has('verifier') || args.debug.has('all'),
      onVerifierLog: (name, log) => io.err(`; verifier log for ${name}\n${log}\n`),
      pid: args.pid ?? cpid,
      onFirstRecord: cacheCheckpoint,
    });
    const stopOn = (sig: NodeJS.Signals) => {
      const h = () => session.stop(0);
      process.on(sig, h);
      return () => process.removeListener(sig, h);
    };
    const offs = [stopOn('SIGINT'), stopOn('SIGTERM'), stopOn('SIGHUP')];
    let code = 0;
    try {
      session.attach();
      session.start();
      if (child) {
        releaseHeld(child);
        released = true;
        if (child.exitCode !== null || child.signalCode !== null) session.stop(0);
        else child.on('exit', () => session.stop(0));
      }
      if (args.pid !== undefined) watchPid(args.pid, () => session.stop(0));
      code = await session.wait(child !== undefined || args.pid !== undefined);
    } finally {
      try {
        code = session.finish() || code;
      } finally {
        offs.forEach((f) => f());
        if (child && child.exitCode === null) child.kill('SIGTERM');
      }
    }
    return code;
  } catch (e) {
    if (e instanceof CompileError) {
      io.err(e.message.endsWith('\n') ? e.message : e.message + '\n');
      return 1;
    }
    if (e instanceof LoadError) {
      io.err((e.message.endsWith('\n') ? e.message : e.message + '\n') + (args.debug.size ? '' : 'Use -d verifier to see the verifier log.\n'));
      return 1;
    }
    throw e;
  } finally {
    // A command never released is only the trampoline: it must not outlive a failed start.
    if (child && !released && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    outFile?.flush();
    if (outFd !== undefined) closeSync(outFd);
  }
}

function safeCpus(): number {
  try {
    return numPossibleCpus();
  } catch {
    return 1;
  }
}

/**
 * Starts argv with its exec held back until releaseHeld(): a tiny sh
 * trampoline reads a line first. Without the line (bpfkit failed and its end
 * of the pipe closed) the command does not run at all.
 */
function startHeld(argv: string[]): ChildProcess {
  const child = childProcess().spawn('/bin/sh', ['-c', 'read _ && exec "$@"', 'sh', ...argv], { stdio: ['pipe', 'inherit', 'inherit'] });
  // Released after it died (exit() in BEGIN): the line goes nowhere, which is fine.
  child.stdin?.on('error', () => {});
  return child;
}

/** The executable a command word names: a path with a `/`, else the first match on PATH (as exec does: an empty entry is the current directory). */
function findCommand(word: string): string | undefined {
  if (word.includes('/')) return isExecutableFile(word) ? word : undefined;
  return findExecutable(word, (process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(':').map((d) => d || '.'));
}

function releaseHeld(child: ChildProcess): void {
  // After the banner and BEGIN's output are flushed (a microtask): the command shares our stdout.
  setImmediate(() => child.stdin?.end('\n'));
}

function watchPid(pid: number, onExit: () => void): void {
  const t = setInterval(() => {
    if (!alive(pid)) {
      clearInterval(t);
      onExit();
    }
  }, 200);
  t.unref();
}

/** A zombie counts as gone: it runs nothing more, and its parent may take long to reap it. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return false;
  }
}
