// The library API: compile a bpftrace program, run it, and receive its output
// as typed values. The CLI is a thin layer over this.
import { compile, type Compiled } from './compile.js';
// Library users get every provider without asking (the CLI loads them on demand).
import './probes/more.js';
import { Session, type Sink } from './runtime/session.js';
import { formatPrintf, formatStrftime, type MapSnapshot, type Value } from './output/index.js';
import { numPossibleCpus } from './bpf/cpus.js';
import { kernelSymbolizer } from './runtime/printer.js';
import { resolveUser } from './symbols/usym.js';
import type { CompileOptions } from './builtins/registry.js';

export type TraceEvent =
  /** printf(): the formatted text and the argument values. */
  | { type: 'printf'; text: string; args: Value[] }
  /** print(value). */
  | { type: 'value'; value: Value }
  /** print(@map), or a map printed at exit. */
  | { type: 'map'; map: MapSnapshot; atExit: boolean }
  | { type: 'time'; text: string }
  | { type: 'join'; text: string }
  | { type: 'message'; level: 'error' | 'warning' | 'debug'; text: string }
  | { type: 'lost'; count: number };

export interface TraceOptions extends Partial<Pick<CompileOptions, 'maxStrlen' | 'unsafe' | 'positional' | 'pid' | 'mapKeysMax' | 'ringSize'>> {
  /** File name used in diagnostics (default `stdin`, as bpftrace names -e programs). */
  file?: string;
  /** Called for each event as it arrives (in addition to the async iterator). */
  onEvent?: (e: TraceEvent) => void;
}

export interface TraceResult {
  exitCode: number;
  /** Non-empty maps at exit, by name (what bpftrace prints at exit). */
  maps: MapSnapshot[];
}

/** Compiles without touching the kernel. Throws CompileError (with bpftrace-style `.message`) on a bad program. */
export function compileProgram(source: string, opts: TraceOptions = {}): Compiled {
  return compile(source, opts.file ?? 'stdin', {
    ...opts,
    positional: opts.positional ?? [],
    ncpus: numPossibleCpus(),
    startNs: process.hrtime.bigint(),
  });
}

/**
 * A running trace. Example:
 *   const t = await Trace.start('tracepoint:syscalls:sys_enter_getppid { printf("%d\n", pid); }');
 *   for await (const ev of t.events()) { if (ev.type === 'printf') console.log(ev.text); break; }
 *   const { maps } = await t.stop();
 */
export class Trace {
  private readonly queue: TraceEvent[] = [];
  private waiters: ((r: IteratorResult<TraceEvent>) => void)[] = [];
  private ended = false;
  private result?: Promise<TraceResult>;

  private constructor(private readonly session: Session, private readonly opts: TraceOptions) {}

  /** Compiles, loads and attaches; BEGIN has run when this resolves. */
  static async start(source: string, opts: TraceOptions = {}): Promise<Trace> {
    const compiled = compileProgram(source, opts);
    let self: Trace | undefined;
    const push = (e: TraceEvent) => self!.push(e);
    const sym = kernelSymbolizer(resolveUser);
    const fmt = (f: string | undefined, args: Value[]) => formatPrintf(f ?? '', args, { symbolizer: sym });
    const sink: Sink = {
      attached() {},
      printf: (spec, args) => push({ type: 'printf', text: fmt(spec.fmt, args), args }),
      printValue: (value) => push({ type: 'value', value }),
      printMap: (map) => push({ type: 'map', map, atExit: false }),
      time: (f) => push({ type: 'time', text: formatStrftime(f, BigInt(Date.now()) * 1_000_000n) ?? '' }),
      join: (parts, sep) => push({ type: 'join', text: parts.join(sep) }),
      cat: (spec, args) => push({ type: 'printf', text: fmt(spec.fmt, args), args }),
      system: () => {},
      message: (kind, spec, args) => push({ type: 'message', level: kind === 'errorf' ? 'error' : kind === 'warnf' ? 'warning' : 'debug', text: fmt(spec.fmt, args) }),
      lost: (count) => push({ type: 'lost', count }),
      exitMaps: (maps) => {
        self!.exitMaps = maps;
        maps.forEach((map) => push({ type: 'map', map, atExit: true }));
      },
    };
    const session = new Session(compiled, sink, { pid: opts.pid });
    self = new Trace(session, opts);
    try {
      session.attach();
      session.start();
    } catch (e) {
      session.close();
      throw e;
    }
    self.result = session.wait().then(() => self!.finish());
    return self;
  }

  private push(e: TraceEvent): void {
    this.opts.onEvent?.(e);
    const w = this.waiters.shift();
    if (w) w({ value: e, done: false });
    else this.queue.push(e);
  }

  private exitMaps: MapSnapshot[] = [];
  private finishing?: TraceResult;
  private finish(): TraceResult {
    if (this.finishing) return this.finishing;
    const exitCode = this.session.finish(true);
    this.ended = true;
    for (const w of this.waiters.splice(0)) w({ value: undefined, done: true });
    this.finishing = { exitCode, maps: this.exitMaps };
    return this.finishing;
  }

  /** Events in arrival order; ends after the trace stops (exit() or stop()). */
  events(): AsyncIterableIterator<TraceEvent> {
    const self = this;
    return {
      [Symbol.asyncIterator]() {
        return this;
      },
      next(): Promise<IteratorResult<TraceEvent>> {
        const e = self.queue.shift();
        if (e) return Promise.resolve({ value: e, done: false });
        if (self.ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => self.waiters.push(resolve));
      },
    };
  }

  /** Current contents of a map (`@name` without the @). */
  map(name: string): MapSnapshot | undefined {
    return this.session.snapshot(name);
  }

  /** Stops the trace: detaches, runs END, reads the maps, releases everything. */
  stop(): Promise<TraceResult> {
    this.session.stop(0);
    return this.result!;
  }

  /** Resolves when the program exits by itself (exit() or only BEGIN/END). */
  done(): Promise<TraceResult> {
    return this.result!;
  }
}

/** Runs a program to completion and returns its events and maps. */
export async function run(source: string, opts: TraceOptions & { timeoutMs?: number } = {}): Promise<TraceResult & { events: TraceEvent[] }> {
  const events: TraceEvent[] = [];
  const t = await Trace.start(source, { ...opts, onEvent: (e) => { events.push(e); opts.onEvent?.(e); } });
  let timer: NodeJS.Timeout | undefined;
  if (opts.timeoutMs) timer = setTimeout(() => void t.stop(), opts.timeoutMs);
  const r = await t.done();
  if (timer) clearTimeout(timer);
  return { ...r, events };
}
