// Runs a tool's program: compile, load, attach, run until Ctrl-C, SIGTERM,
// exit() in the program or the traced duration, then END. Output goes
// through the CLI's text sink, with hooks for tools that print maps in BCC's
// layout instead of bpftrace's.
import { compile } from '../compile.js';
import '../probes/more.js';
import { resolveUser } from '../symbols/usym.js';
import { CompileError } from '../lang/diagnostics.js';
import { Session, LoadError, type Sink } from '../runtime/session.js';
import { makeSink } from '../runtime/printer.js';
import { numPossibleCpus } from '../bpf/cpus.js';
import { kaddr } from '../symbols/kallsyms.js';
import { envOptions } from '../cli/args.js';
import { cacheCheckpoint } from '../cli/cachetags.js';
import type { Io } from '../cli/trace.js';
import type { MapSnapshot } from '../output/value.js';

export interface RunHooks {
  /** print(@map) from the program. */
  printMap?: (snap: MapSnapshot, io: Io) => void;
  /**
   * Maps left at exit. Default: nothing, as BCC's tools print nothing at
   * exit; bpftrace's classic tools pass `'bpftrace'` to print them its way.
   */
  exitMaps?: 'bpftrace' | ((snaps: MapSnapshot[], io: Io) => void);
}

function safeCpus(): number {
  try {
    return numPossibleCpus();
  } catch {
    return 1;
  }
}

export async function runProgram(name: string, source: string, io: Io, hooks: RunHooks = {}): Promise<number> {
  const file = `${name}.bt`;
  const compiled = (() => {
    try {
      return compile(source, file, {
        ...envOptions(process.env),
        ncpus: safeCpus(),
        startNs: process.hrtime.bigint(),
        resolveKaddr: (n: string) => {
          try {
            const a = kaddr(n);
            return a === 0n ? undefined : a;
          } catch {
            return undefined;
          }
        },
      });
    } catch (e) {
      if (e instanceof CompileError) {
        // Missing probe targets are the machine's, not ours: a module not loaded, a function not in this kernel.
        const missing = e.diagnostics.filter((d) => /not found|No probes matched|tracepoint not found|not available/.test(d.message));
        if (missing.length && missing.length === e.diagnostics.length) {
          throw new ToolFailure(`bpfkit ${name}: cannot run on this kernel: ${missing.map((d) => d.message.split('\n')[0]).join('; ')}`);
        }
        throw new ToolFailure(`bpfkit ${name}: the tool's program does not compile (a bug in bpfkit):\n${e.message}`);
      }
      throw e;
    }
  })();
  const base = makeSink('text', io.out, { quiet: true, userSymbols: resolveUser });
  const sink: Sink = {
    ...base,
    printMap: (snap, top, div) => (hooks.printMap ? hooks.printMap(snap, io) : base.printMap(snap, top, div)),
    exitMaps: (snaps) => {
      if (hooks.exitMaps === 'bpftrace') base.exitMaps(snaps);
      else if (hooks.exitMaps) hooks.exitMaps(snaps, io);
    },
  };
  const session = new Session(compiled, sink, { onFirstRecord: cacheCheckpoint });
  const offs = (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((sig) => {
    const h = () => session.stop(0);
    process.on(sig, h);
    return () => process.removeListener(sig, h);
  });
  let code = 0;
  try {
    try {
      session.attach();
      session.start();
      code = await session.wait();
    } finally {
      try {
        code = session.finish() || code;
      } finally {
        offs.forEach((f) => f());
      }
    }
  } catch (e) {
    if (e instanceof LoadError) throw new ToolFailure(`bpfkit ${name}: ${e.message}`);
    throw e;
  }
  return code;
}

export class ToolFailure extends Error {}
