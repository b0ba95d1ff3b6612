// The CLI's Sink: formats events with the output layer's renderer (text or
// JSON) and writes them in order. Symbols are resolved lazily, only when a
// value that needs them is printed. User-space symbols come through a
// resolver the caller passes (symbols/usym.ts): that code reads ELF and
// DWARF and demangles, so the CLI loads it only for a program that can print
// user addresses (printsUserSymbols).
import { childProcess } from '../lazy.js';
import { readFileSync } from 'node:fs';
import { createRenderer, formatDiagnostic, formatPrintf, formatStrftime, type Renderer, type Symbolizer, type Value } from '../output/index.js';
import type { EventSpec } from '../analysis/resources.js';
import { ksym } from '../symbols/kallsyms.js';
import type { Sink } from './session.js';
import type { Compiled } from '../compile.js';
import type { Ty } from '../analysis/types.js';
import type { MapSnapshot } from '../output/value.js';

export interface SinkOptions {
  quiet?: boolean;
  /** For helper error warnings: the program's file name and source. */
  file?: string;
  source?: string;
  symbolizer?: Symbolizer;
  /** Resolves user-space addresses (resolveUser of symbols/usym.ts); without it they print as addresses. */
  userSymbols?: UserResolver;
  /** false: warnf() prints nothing (--no-warnings). */
  warnings?: boolean;
}

export type UserResolver = typeof import('../symbols/usym.js').resolveUser;

/** Whether `c` can print user-space addresses as symbols (ustack, usym()), anywhere in an event or a map. */
export function printsUserSymbols(c: Compiled): boolean {
  const user = (t: Ty): boolean =>
    (t.k === 'stack' && !t.kernel) || t.k === 'usym' || (t.k === 'tuple' && t.elems.some(user)) || (t.k === 'array' && user(t.elem));
  return c.res.events.some((e) => e.args.some(user)) || [...c.res.maps.values()].some((m) => user(m.value) || (m.keys ?? []).some(user));
}

export function kernelSymbolizer(resolveUser?: UserResolver): Symbolizer {
  return {
    ksym(addr) {
      try {
        const s = ksym(addr);
        return s ? { name: s.name, offset: BigInt(s.offset), module: s.module } : undefined;
      } catch {
        return undefined;
      }
    },
    usym(addr, pid) {
      if (pid === undefined || !resolveUser) return undefined;
      try {
        const s = resolveUser(pid, addr);
        return s ? { name: s.name, offset: BigInt(s.offset), module: s.module } : undefined;
      } catch {
        return undefined;
      }
    },
  };
}

export function makeSink(format: 'text' | 'json', write: (s: string) => void, opts: SinkOptions = {}): Sink {
  const symbolizer = opts.symbolizer ?? kernelSymbolizer(opts.userSymbols);
  const r: Renderer = createRenderer(format, { symbolizer });
  const emit = (s: string) => {
    if (s) write(s);
  };
  const fmt = (spec: EventSpec, args: Value[]) => formatPrintf(spec.fmt ?? '', args, { symbolizer });
  return {
    attached(n) {
      if (!opts.quiet) emit(r.attachedProbes(n));
    },
    printf(spec, args) {
      emit(r.printf(fmt(spec, args)));
    },
    printValue(v) {
      emit(r.value(v));
    },
    printMap(snap: MapSnapshot, top: number, div: number) {
      emit(r.map(snap, top, div));
    },
    time(f) {
      const now = BigInt(Date.now()) * 1_000_000n;
      emit(r.time(formatStrftime(f, now) ?? ''));
    },
    join(parts, sep) {
      emit(r.join(parts.join(sep)));
    },
    cat(spec, args) {
      const path = fmt(spec, args);
      try {
        emit(r.cat(readFileSync(path, 'utf8')));
      } catch (e) {
        process.stderr.write(`ERROR: failed to open file '${path}': ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'No such file or directory' : String(e)}\n`);
      }
    },
    system(spec, args) {
      const cmd = fmt(spec, args);
      let out = '';
      try {
        out = childProcess().execFileSync('/bin/sh', ['-c', cmd], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
      } catch (e) {
        out = (e as { stdout?: string }).stdout ?? '';
      }
      emit(r.system(out));
    },
    systemAsync(spec, args, done) {
      const cmd = fmt(spec, args);
      const chunks: Buffer[] = [];
      // Its own process group, so a signal reaches the shell and what it runs, as a terminal's Ctrl-C does.
      const child = childProcess().spawn('/bin/sh', ['-c', cmd], { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
      child.stdout?.on('data', (b: Buffer) => chunks.push(b));
      let ended = false;
      const end = () => {
        if (ended) return;
        ended = true;
        emit(r.system(Buffer.concat(chunks).toString('utf8')));
        done();
      };
      child.on('close', end);
      child.on('error', end);
      return {
        kill(signal: NodeJS.Signals = 'SIGTERM') {
          try {
            if (child.pid !== undefined) process.kill(-child.pid, signal);
          } catch {
            /* already gone */
          }
        },
      };
    },
    message(kind, spec, args) {
      // errorf()/warnf() as newer bpftrace documents them: the message as a
      // diagnostic at the call's place in the program, on stderr.
      if (kind === 'warnf' && opts.warnings === false) return;
      const text = fmt(spec, args);
      if (format === 'json') {
        emit(`{"type": "${kind === 'errorf' ? 'error' : kind === 'warnf' ? 'warning' : 'debug'}", "data": ${JSON.stringify(text)}}\n`);
        return;
      }
      const l = spec.loc;
      process.stderr.write(formatDiagnostic({
        level: kind === 'errorf' ? 'ERROR' : 'WARNING',
        message: text,
        file: opts.file,
        source: opts.source,
        range: { line: l.line, column: l.col, endLine: l.endLine, endColumn: l.endCol },
      }));
    },
    lost(n) {
      emit(r.lostEvents(n));
    },
    exitMaps(snaps) {
      emit(r.exit(snaps));
    },
    helperError(helper, retcode, loc) {
      emit(r.helperError({ helper, retcode, file: opts.file, source: opts.source, range: { line: loc.line, column: loc.col, endLine: loc.endLine, endColumn: loc.endCol } }));
    },
  };
}
