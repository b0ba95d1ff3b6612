// A running program: creates its maps, loads and attaches its probes, runs
// BEGIN, turns ring buffer records into events, and on exit runs END, reads
// the maps and releases every kernel object. Formatting is not done here: the
// runtime hands typed values to a Sink (text, JSON, or a library user).
import * as A from '../bpf/asm/index.js';
import { BpfMap, MapType, ringSizeFor } from '../bpf/map.js';
import { Program, VerifierError } from '../bpf/program.js';
import { btfIdent, closeBtf, loadFuncInfo, MAP_ELEM_CALLBACK_PARAMS } from '../bpf/btfgen.js';
import { RingBufferReader } from '../bpf/ringbuf.js';
import { Poller } from '../bpf/poller.js';
import { onlineCpus, numPossibleCpus } from '../bpf/cpus.js';
import { SysError } from '../bpf/sys.js';
import { kernelBtfFd } from '../bpf/kernelbtf.js';
import type { Compiled, CompiledProbe } from '../compile.js';
import { EVENT_HEADER, type EventSpec, type MapInfo } from '../analysis/resources.js';
import { LOST_MAP, RINGBUF_MAP, SCRATCH_MAP } from '../codegen/gen.js';
import { CompileError, type Diagnostic } from '../lang/diagnostics.js';
import type { Loc } from '../lang/ast.js';
import type { Attachment, Provider } from '../probes/provider.js';
import { findProvider } from '../probes/index.js';
import type { MapSnapshot, Value } from '../output/value.js';
import { decode, type DecodeEnv } from './decode.js';
import { KSTACK_MAP, USTACK_MAP, UPIDS_MAP, UPIDS_KEY_SIZE, MAX_STACK_DEPTH } from '../builtins/stacks.js';
import * as V from '../output/value.js';
import { rememberProcess } from '../symbols/procmaps.js';
import type { Ty } from '../analysis/types.js';
import { clearMap, createMaps, readMap, zeroMap, type MapPartFd } from './maps.js';
import { underscored } from '../chars.js';
import { getU32 } from '../le.js';

/** Where a session's output goes. The CLI formats; the library API collects. */
export interface Sink {
  attached(probes: number): void;
  printf(spec: EventSpec, args: Value[]): void;
  printValue(v: Value): void;
  printMap(snap: MapSnapshot, top: number, div: number): void;
  time(fmt: string): void;
  join(parts: string[], sep: string): void;
  cat(spec: EventSpec, args: Value[]): void;
  system(spec: EventSpec, args: Value[]): void;
  /**
   * system() while probes fire: runs the command without blocking the event
   * loop and calls `done` once its output has been written. The session
   * reads no further events until then, so output stays in bpftrace's order.
   */
  systemAsync?(spec: EventSpec, args: Value[], done: () => void): { kill(signal?: NodeJS.Signals): unknown } | undefined;
  message(kind: 'errorf' | 'warnf' | 'debugf', spec: EventSpec, args: Value[]): void;
  lost(n: number): void;
  /** Maps printed at exit, after END. */
  exitMaps(snaps: MapSnapshot[]): void;
  /** A helper failed (-k). */
  helperError?(helper: string, retcode: number, loc: Loc): void;
}

export interface SessionOptions {
  /** Keep the verifier log of each program (for -d verifier). */
  verifierLog?: boolean;
  onVerifierLog?: (probe: string, log: string) => void;
  pid?: number;
  /** Called once, as the first record is about to be handled. */
  onFirstRecord?: () => void;
}

/** A program the kernel refused, reported against the construct that produced the failing instruction. */
export class LoadError extends Error {
  constructor(message: string, readonly log: string, readonly diagnostic?: string) {
    super(message);
    this.name = 'LoadError';
  }
}

interface Loaded {
  cp: CompiledProbe;
  prog: Program;
}

export class Session {
  private readonly maps = new Map<string, BpfMap>();
  /** The BPF maps behind each bpftrace map, by its name. */
  private readonly parts = new Map<string, MapPartFd[]>();
  private readonly loaded: Loaded[] = [];
  private readonly attachments: Attachment[] = [];
  private ring?: RingBufferReader;
  private poller?: Poller;
  private exitCode: number | undefined;
  private stopped = false;
  private finished = false;
  private wake?: () => void;
  private readonly events: EventSpec[];
  private env: DecodeEnv = {};
  private readonly stackCache = new Map<string, bigint[]>();
  private readonly remembered = new Set<number>();
  /** A system() command is running: records are held back (and the ring left unread) until it ends. */
  private busy?: { kill(signal?: NodeJS.Signals): unknown };
  private readonly backlog: Buffer[] = [];
  /** system() runs asynchronously from BEGIN on, synchronously in END (finish() does not wait). */
  private asyncSystem = false;
  private endWhenIdle = false;

  private onFirstRecord?: () => void;

  constructor(readonly compiled: Compiled, private readonly sink: Sink, private readonly opts: SessionOptions = {}) {
    this.events = compiled.res.events;
    this.onFirstRecord = opts.onFirstRecord;
  }

  /** Number of probes as bpftrace counts them for its banner. */
  get probeCount(): number {
    return this.compiled.probes.length;
  }

  // ------------------------------------------------------------------ setup

  private createMaps(): void {
    const c = this.compiled;
    const ncpus = numPossibleCpus();
    this.maps.set(SCRATCH_MAP, BpfMap.create({ type: MapType.ARRAY, name: 'AT_scratch', keySize: 4, valueSize: c.scratchSize, maxEntries: ncpus }));
    this.maps.set(RINGBUF_MAP, BpfMap.ringbuf('AT_events', c.opts.ringSize || defaultRingSize(ncpus)));
    this.maps.set(LOST_MAP, BpfMap.create({ type: MapType.PERCPU_ARRAY, name: 'AT_lost', keySize: 4, valueSize: 8, maxEntries: 1 }));
    for (const info of c.res.maps.values()) {
      const parts = createMaps(info, c.opts.mapKeysMax);
      this.parts.set(info.name, parts);
      for (const { part, map } of parts) this.maps.set(part.name, map);
    }
    for (const k of c.res.stackMaps) {
      const name = k === 'k' ? KSTACK_MAP : USTACK_MAP;
      this.maps.set(name, BpfMap.create({ type: MapType.STACK_TRACE, name: `AT_${k}stack`, keySize: 4, valueSize: 8 * MAX_STACK_DEPTH, maxEntries: c.opts.stackMapSize }));
    }
    if (c.res.seenPid) this.maps.set(UPIDS_MAP, BpfMap.create({ type: MapType.LRU_HASH, name: 'AT_upids', keySize: UPIDS_KEY_SIZE, valueSize: 8, maxEntries: 16384 }));
    this.env = { stack: (kernel, id, pid, t) => this.readStack(kernel, id, pid, t) };
  }

  private load(cp: CompiledProbe, expectedAttachType = cp.target.expectedAttachType): Program {
    const insns = cp.code.insns.map((i) => ({ ...i }));
    for (const r of cp.code.relocs) {
      const m = this.maps.get(r.map);
      if (!m) throw new Error(`internal: no map ${r.map}`);
      insns[r.index] = A.ldMapFd(insns[r.index].dst, m.fd);
      insns[r.index].origin = cp.code.insns[r.index].origin;
    }
    const asm = A.assemble(insns);
    const name = underscored(cp.target.name).slice(0, 15);
    // for-map callbacks (ldFunc) make the verifier demand BTF func_info.
    const btf = cp.code.funcs.length
      ? loadFuncInfo(btfIdent(cp.target.name), cp.code.funcs.map((l, i) => ({ name: `${btfIdent(cp.target.name)}_for${i}`, params: MAP_ELEM_CALLBACK_PARAMS, slot: asm.labels.get(l)! })))
      : undefined;
    try {
      const prog = Program.load({
        type: cp.target.progType,
        insns: asm.bytes,
        name,
        expectedAttachType,
        attachBtfId: cp.target.attachBtfId,
        attachBtfObjFd: cp.target.attachBtfModule !== undefined ? kernelBtfFd(cp.target.attachBtfModule) : undefined,
        logLevel: this.opts.verifierLog ? 1 : undefined,
        ...btf,
      });
      if (this.opts.verifierLog) this.opts.onVerifierLog?.(cp.target.name, prog.log ?? '');
      return prog;
    } catch (e) {
      if (e instanceof VerifierError) {
        if (this.opts.verifierLog) this.opts.onVerifierLog?.(cp.target.name, e.log);
        const origin = e.insnIndex !== null ? (asm.origins[e.insnIndex] as { loc: Loc; text?: string } | undefined) : undefined;
        const reason = e.reason || e.code;
        if (e.code === 'EAGAIN') {
          // The verifier stops when a signal is pending; six tries all cut short mean signals come faster than it finishes.
          throw new LoadError(`loading the program for ${cp.target.name} was interrupted by signals on every try (EAGAIN): stop what signals bpfkit this often (a profiler's SIGPROF) and run it again`, e.log);
        }
        if (!e.log && e.code === 'EPERM') {
          throw new LoadError(`the kernel refused to load the program for ${cp.target.name} (EPERM): ${cp.target.provider} programs are not permitted on this kernel`, e.log);
        }
        const msg = `the BPF verifier rejected the program for ${cp.target.name}: ${plainReason(reason)}${origin?.text ? ` (in ${origin.text})` : ''}`;
        const diag: Diagnostic = { severity: 'error', message: msg, loc: origin?.loc ?? cp.probe.loc };
        const text = new CompileError([diag], this.compiled.ast.file, this.compiled.ast.source).message;
        throw new LoadError(text, e.log, text);
      }
      throw e;
    } finally {
      // The loaded program holds its own reference to the BTF.
      if (btf) closeBtf(btf.btfFd);
    }
  }

  /** Creates maps, loads every program, attaches the event probes. Returns the banner count. */
  attach(): number {
    this.createMaps();
    this.ring = new RingBufferReader(this.maps.get(RINGBUF_MAP)!, (data) => this.onRecord(data));
    if (!this.onlySpecial) this.startPoller();
    const env = { ncpus: numPossibleCpus(), onlineCpus: onlineCpus(), pid: this.opts.pid };
    // Probes whose code came out the same (a wildcard's targets, mostly) share
    // one loaded program: the verifier runs once, not once per function. A
    // provider that can attach many targets with one link gets them together.
    const byCode = new Map<string, Program>();
    const multis = new Map<string, { p: Provider; cps: CompiledProbe[] }>();
    const singles: { p: Provider; cp: CompiledProbe; prog: Program }[] = [];
    // One event probe has nothing to share with: its bytes need no comparing.
    const several = this.compiled.probes.filter((cp) => !cp.target.special).length > 1;
    for (const cp of this.compiled.probes) {
      if (cp.target.special) {
        this.loaded.push({ cp, prog: this.load(cp) });
        continue;
      }
      const p = findProvider(this.compiled.providers, cp.target.provider);
      if (!p?.attach) throw new Error(`${cp.target.provider} probes cannot be attached yet`);
      const code = several ? codeIdentity(cp) : '';
      // A lone probe gains nothing from a shared link (and skips its feature probe).
      const mk = several ? p.multi?.key(cp.target) : undefined;
      if (mk !== undefined) {
        const k = `${code}\0${mk}`;
        const g = multis.get(k);
        if (g) g.cps.push(cp);
        else multis.set(k, { p, cps: [cp] });
        continue;
      }
      let prog = byCode.get(code);
      if (!prog) {
        prog = this.load(cp);
        byCode.set(code, prog);
        this.loaded.push({ cp, prog });
      }
      singles.push({ p, cp, prog });
    }
    const groups = [...multis.values()].map(({ p, cps }) => {
      const prog = this.load(cps[0], p.multi!.attachType);
      this.loaded.push({ cp: cps[0], prog });
      return { p, cps, prog };
    });
    // Event probes attach once BEGIN has run (start()).
    const pending = (what: string, attach: () => Attachment) => () => {
      try {
        return attach();
      } catch (e) {
        if (e instanceof SysError) throw new LoadError(`Could not attach probe ${what}: ${e.message}`, '');
        throw e;
      }
    };
    for (const { p, cps, prog } of groups) {
      const what = cps.length > 1 ? `${cps[0].target.name} and ${cps.length - 1} more` : cps[0].target.name;
      this.pending.push(pending(what, () => p.multi!.attach(prog.fd, cps.map((cp) => cp.target), env)));
    }
    for (const { p, cp, prog } of singles) this.pending.push(pending(cp.target.name, () => p.attach!(prog.fd, cp.target, env)));
    return this.probeCount;
  }

  private readonly pending: (() => Attachment)[] = [];

  private attachPending(): void {
    for (const attach of this.pending.splice(0)) this.attachments.push(attach());
  }

  /** Runs BEGIN programs (on this CPU, from user space) and starts draining events. */
  start(): void {
    this.sink.attached(this.probeCount);
    this.asyncSystem = true;
    // Event probes attach right after BEGIN has run and before its records
    // are read: BEGIN's output is first in the ring, and what BEGIN starts
    // (system()) runs with every probe attached, as in bpftrace.
    this.runSpecial('begin', () => this.attachPending());
    this.attachPending();
    this.drain();
    if (this.exitCode !== undefined) return;
    // Iterators walk their objects once BEGIN has run; the program then ends, as in bpftrace.
    let iterated = false;
    for (const a of this.attachments) {
      if (a.afterBegin) {
        a.afterBegin();
        iterated = true;
      }
    }
    if (iterated) {
      this.drain();
      this.stop(this.exitCode ?? 0);
    }
    if (this.exitCode !== undefined) return;
    if (!this.busy) this.startPoller();
  }

  /**
   * Starts draining the ring whenever it has records. The first wait starts
   * libuv's worker threads: started before the programs load, they come up
   * on another CPU meanwhile, and a record caught right after attaching is
   * read as soon as the event loop turns (a millisecond or more sooner than
   * a start after the banner). Records are only handled once start() has
   * run BEGIN: attach() and start() run in one go.
   */
  private startPoller(): void {
    if (this.poller) return;
    let rounds = 0;
    this.poller = new Poller([this.ring!], {
      timeoutMs: 200,
      onError: (e) => this.fail(e),
      onDrained: () => {
        if (++rounds % 16 === 0) this.reportLost();
      },
    });
    this.poller.start();
  }

  /** Runs the BEGIN or END programs; `afterFirst` runs after the first one's run, before its events are read. */
  private runSpecial(kind: 'begin' | 'end', afterFirst?: () => void): void {
    for (const { cp, prog } of this.loaded) {
      if (cp.target.special !== kind) continue;
      prog.testRun({ ctx: Buffer.alloc(8) });
      afterFirst?.();
      afterFirst = undefined;
      // Events from BEGIN are handled before the next BEGIN runs, as bpftrace does.
      this.drain();
      if (kind === 'begin' && this.exitCode !== undefined) return;
    }
  }

  private failure: unknown;
  private fail(e: unknown): void {
    this.failure = e;
    this.stop(1);
  }

  /** Whether the program can ever end by itself or by events (false: only BEGIN/END and nothing to wait for). */
  get onlySpecial(): boolean {
    return this.loaded.every((l) => l.cp.target.special);
  }

  /**
   * Resolves with the exit code when exit() runs or stop() is called. A
   * BEGIN/END-only program is done at once unless `untilStopped` (it then
   * lives as long as the command or process it was started for).
   */
  wait(untilStopped = false): Promise<number> {
    if (this.exitCode !== undefined) return Promise.resolve(this.exitCode);
    if (this.onlySpecial && !untilStopped) {
      if (!this.busy) {
        this.exitCode = 0;
        return Promise.resolve(0);
      }
      // BEGIN's system() command is still running: end once it and the output after it are done.
      this.endWhenIdle = true;
    }
    return new Promise((resolve) => {
      this.wake = () => resolve(this.exitCode ?? 0);
    });
  }

  stop(code = 0): void {
    if (this.exitCode === undefined) this.exitCode = code;
    this.stopped = true;
    // A running system() command is interrupted as a terminal's Ctrl-C
    // would; the session ends once it has (systemDone wakes the waiter).
    if (this.busy) this.busy.kill('SIGINT');
    else this.wake?.();
  }

  /** Detaches, runs END, prints maps and releases everything. Safe to call twice. */
  finish(printMaps = true): number {
    if (this.finished) return this.exitCode ?? 0;
    this.finished = true;
    this.asyncSystem = false;
    if (this.busy) {
      this.busy.kill('SIGKILL');
      this.busy = undefined;
    }
    this.poller?.close();
    for (const a of this.attachments.splice(0).reverse()) {
      try {
        a.close();
      } catch {
        /* already gone */
      }
    }
    this.stopped = false;
    const code = this.exitCode ?? 0;
    this.exitCode = undefined;
    try {
      // Records held back behind an interrupted system() command, then the
      // ring's last ones (bpftrace drains its buffers once more at exit).
      for (const d of this.backlog.splice(0)) if (!this.stopped) this.handle(d);
      this.drain();
      this.runSpecial('end');
      this.drain();
      this.reportLost();
      if (printMaps) this.sink.exitMaps(this.snapshots());
    } finally {
      this.close();
    }
    this.exitCode = code;
    if (this.failure) throw this.failure;
    return code;
  }

  /** Frames of a recorded stack; ids are cached since the kernel may reuse a slot later. */
  private readStack(kernel: boolean, id: bigint, pid: number, t: Ty & { k: 'stack' }): Value {
    if (id < 0n) return V.stack(!kernel, [], t.mode, pid);
    // Keep the process's mappings so its frames still resolve after it exits.
    if (!kernel && pid > 0 && !this.remembered.has(pid)) {
      this.remembered.add(pid);
      try {
        rememberProcess(pid);
      } catch {
        /* gone already */
      }
    }
    const key = `${kernel ? 'k' : 'u'}${id}`;
    let ips = this.stackCache.get(key);
    if (!ips) {
      ips = [];
      const m = this.maps.get(kernel ? KSTACK_MAP : USTACK_MAP);
      const k = Buffer.alloc(4);
      k.writeUInt32LE(Number(id));
      const v = m?.lookup(k);
      if (v) for (let i = 0; i + 8 <= v.length; i += 8) {
        const ip = v.readBigUInt64LE(i);
        if (ip === 0n) break;
        ips.push(ip);
      }
      this.stackCache.set(key, ips);
    }
    return V.stack(!kernel, ips.slice(0, t.limit).map((addr) => ({ addr })), t.mode, kernel ? undefined : pid);
  }

  private reportedLost = 0n;
  /** Reports events dropped since the last report (bpftrace prints `Lost N events`). */
  reportLost(): void {
    const m = this.maps.get(LOST_MAP);
    if (!m) return;
    const v = m.lookupPerCpu(Buffer.alloc(4));
    let total = 0n;
    for (const s of v ?? []) total += s.readBigUInt64LE(0);
    if (total > this.reportedLost) {
      this.sink.lost(Number(total - this.reportedLost));
      this.reportedLost = total;
    }
  }

  /** Every map, by name, as printed at exit (bpftrace 0.17 prints a blank line for an empty one). */
  snapshots(): MapSnapshot[] {
    const out: MapSnapshot[] = [];
    const infos = [...this.compiled.res.maps.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const info of infos) {
      const m = this.parts.get(info.name);
      if (!m) continue;
      const snap = readMap(info, m, this.env);
      out.push(snap);
    }
    return out;
  }

  snapshot(name: string): MapSnapshot | undefined {
    const info = this.compiled.res.maps.get(name);
    const m = this.parts.get(name);
    return info && m ? readMap(info, m, this.env) : undefined;
  }

  close(): void {
    this.poller?.close();
    this.ring?.close();
    for (const l of this.loaded.splice(0)) l.prog.close();
    for (const m of this.maps.values()) m.close();
    this.maps.clear();
    this.parts.clear();
  }

  // ----------------------------------------------------------------- events

  private drain(): void {
    this.ring?.drain();
  }

  private onRecord(data: Buffer): void {
    if (this.stopped) return;
    if (this.busy) {
      this.backlog.push(Buffer.from(data));
      return;
    }
    this.handle(data);
  }

  /** A system() command ended: replays the records held back, then reads the ring again. */
  private systemDone(): void {
    if (this.finished) return;
    this.busy = undefined;
    while (this.backlog.length && !this.busy && !this.stopped) this.handle(this.backlog.shift()!);
    if (this.busy) return;
    if (this.endWhenIdle && !this.stopped) this.stop(0);
    // Stopped: what is held back is printed by finish(), before the ring's last records.
    if (this.stopped) {
      this.wake?.();
      return;
    }
    this.poller?.start();
    try {
      this.drain();
    } catch (e) {
      this.fail(e);
    }
  }

  private handle(data: Buffer): void {
    if (this.onFirstRecord) {
      const f = this.onFirstRecord;
      this.onFirstRecord = undefined;
      f();
    }
    // The id is an event number: its high half is zero.
    const id = getU32(data, 0) + getU32(data, 4) * 0x100000000;
    const spec = this.events[id];
    if (!spec) return;
    const args = () => spec.args.map((t, i) => decode(data, EVENT_HEADER + spec.layout.offsets[i], t, this.env));
    switch (spec.kind) {
      case 'printf':
        return this.sink.printf(spec, args());
      case 'errorf':
      case 'warnf':
      case 'debugf':
        return this.sink.message(spec.kind, spec, args());
      case 'print_value':
        return this.sink.printValue(args()[0]);
      case 'print_map': {
        const info = this.compiled.res.maps.get(spec.map!)!;
        const [top, div] = (spec.fmt ?? '0,0').split(',').map(Number);
        return this.sink.printMap(readMap(info, this.parts.get(info.name)!, this.env), top, div);
      }
      case 'clear': {
        // Emptied; a keyless count() still prints `@x: 0` (readMap), as in bpftrace 0.17.
        const m = this.parts.get(spec.map!);
        if (m) clearMap(m);
        return;
      }
      case 'zero': {
        const m = this.parts.get(spec.map!);
        if (m) zeroMap(m, this.compiled.res.maps.get(spec.map!));
        return;
      }
      case 'helper_error': {
        const rc = Number(data.readBigInt64LE(EVENT_HEADER));
        return this.sink.helperError?.(spec.fmt!.split('@')[0], rc, spec.loc);
      }
      case 'seen_pid': {
        // The kernel reports a pid again after each exec (new mappings), so every report is read.
        const pid = Number(data.readBigUInt64LE(EVENT_HEADER));
        this.remembered.add(pid);
        try {
          rememberProcess(pid);
        } catch {
          /* exited already */
        }
        return;
      }
      case 'exit': {
        const v = data.readBigInt64LE(EVENT_HEADER);
        this.stop(Number(BigInt.asUintN(8, v)));
        return;
      }
      case 'time':
        return this.sink.time(spec.fmt ?? '%H:%M:%S\n');
      case 'join': {
        const parts = (args() as { kind: string; value?: string }[]).map((v) => v.value ?? '');
        const n = parts.findIndex((p) => p === '');
        return this.sink.join(n < 0 ? parts : parts.slice(0, n), spec.sep ?? ' ');
      }
      case 'cat':
        return this.sink.cat(spec, args());
      case 'system': {
        if (this.asyncSystem && this.sink.systemAsync) {
          this.busy = this.sink.systemAsync(spec, args(), () => this.systemDone());
          if (this.busy) this.poller?.stop();
          return;
        }
        return this.sink.system(spec, args());
      }
      default:
        return;
    }
  }

  mapInfo(name: string): MapInfo | undefined {
    return this.compiled.res.maps.get(name);
  }
}

/**
 * The event ring's default size: 512 KiB per possible CPU (twice what
 * bpftrace's default of 64 perf-buffer pages per CPU holds), between 2 and
 * 16 MiB. The kernel allocates and maps the whole ring before anything
 * attaches, so its size is start-up time: here 4 MiB took 1.5-3 ms, 2 MiB
 * 0.7 ms, 1 MiB 0.5 ms; 1 MiB lost more printf events than bpftrace under
 * overload.
 */
export function defaultRingSize(ncpus: number): number {
  return ringSizeFor(Math.min(16 << 20, Math.max(2 << 20, ncpus * (512 << 10))));
}

/** Turns the verifier's terse last line into words a user can act on. */
export function plainReason(reason: string): string {
  if (/invalid mem access 'scalar'|invalid mem access 'inv'/.test(reason)) return `${reason}: a value used as a pointer is not known to be one (cast it or read it with str()/buf())`;
  if (/R\d+ min value is outside of the allowed memory range|invalid access to map value|value is outside/.test(reason)) return `${reason}: an index or offset is not bounded`;
  if (/back-edge|infinite loop|loop detected/.test(reason)) return `${reason}: a loop has no bound the verifier can prove`;
  if (/program is too large|too many instructions|BPF program is too large/.test(reason)) return `${reason}: the program is too large (reduce unroll counts or string sizes)`;
  if (/combined stack size|stack limit|invalid write to stack|invalid indirect read from stack/.test(reason)) return `${reason}: the stack use is invalid`;
  return reason;
}

/** What makes two compiled probes loadable as one program: their bytes, maps, program type and attach target. */
function codeIdentity(cp: CompiledProbe): string {
  const t = cp.target;
  const bytes = A.assemble(cp.code.insns).bytes;
  return `${t.progType}/${t.expectedAttachType ?? ''}/${t.attachBtfId ?? ''}/${cp.code.funcs.length}/${cp.code.relocs.map((r) => `${r.index}:${r.map}`).join(',')}/${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')}`;
}
