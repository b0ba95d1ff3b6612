// The value model: everything a bpftrace program can print, already decoded
// from kernel bytes by the runtime. Text and JSON output both render from
// these, so the two formats cannot disagree about what a value is.

export type IntBits = 8 | 16 | 32 | 64;

/** An integer of a given C width; `value` is already sign- or zero-extended. */
export interface IntValue { kind: 'int'; value: bigint; bits: IntBits; signed: boolean }
/** Newer bpftrace's bool (0.17 prints comparisons as integers: use IntValue there). */
export interface BoolValue { kind: 'bool'; value: boolean }
/** A string, cut at its NUL. Raw non-UTF-8 bytes: build it with decodeBytes(). */
export interface StrValue { kind: 'str'; value: string }
/** buf(): printed as hex escapes for unprintable bytes. */
export interface BufValue { kind: 'buf'; bytes: Uint8Array }
export interface TupleValue { kind: 'tuple'; items: Value[] }
/** A C struct/union value: `{ .a = 1, .b = 2 }`. */
export interface RecordValue { kind: 'record'; fields: RecordField[] }
export interface RecordField { name: string; value: Value }
/** A C array (char arrays are strings and should be StrValue). */
export interface ArrayValue { kind: 'array'; items: Value[] }
/** A pointer; bpftrace 0.17 prints these as signed decimal numbers. */
export interface PointerValue { kind: 'ptr'; value: bigint }

export type StackMode = 'bpftrace' | 'perf' | 'raw';
/**
 * One frame. `symbol` (with `offset`, and `module` for user frames) when the
 * runtime already symbolised it; otherwise the renderer asks its Symbolizer.
 */
export interface StackFrame { addr: bigint; symbol?: string; offset?: bigint; module?: string }
export interface StackValue { kind: 'stack'; user: boolean; mode: StackMode; frames: StackFrame[]; pid?: number }
/** ksym()/usym(): the symbol name without offset, or the address in hex. */
export interface SymValue { kind: 'ksym' | 'usym'; addr: bigint; symbol?: string; pid?: number }
/** ntop(): 4 bytes (IPv4) or 16 bytes (IPv6), network order. */
export interface InetValue { kind: 'inet'; bytes: Uint8Array }
export interface MacValue { kind: 'mac'; bytes: Uint8Array }
/** strftime(): wall-clock nanoseconds since the epoch plus the format. */
export interface TimestampValue { kind: 'timestamp'; format: string; epochNs: bigint }
export interface CgroupPathValue { kind: 'cgroup_path'; path: string }
export interface StrerrorValue { kind: 'strerror'; errno: number }
export interface UsernameValue { kind: 'username'; name: string }
export interface ProbeValue { kind: 'probe'; name: string }
export interface NoneValue { kind: 'none' }

export type Value =
  | IntValue | BoolValue | StrValue | BufValue | TupleValue | RecordValue | ArrayValue | PointerValue
  | StackValue | SymValue | InetValue | MacValue | TimestampValue | CgroupPathValue | StrerrorValue
  | UsernameValue | ProbeValue | NoneValue;

/** Symbol lookup used for frames and ksym/usym values the runtime left unresolved. */
export interface ResolvedSymbol { name: string; offset: bigint; module?: string }
export interface Symbolizer {
  ksym(addr: bigint): ResolvedSymbol | undefined;
  usym(addr: bigint, pid: number | undefined): ResolvedSymbol | undefined;
}

// ---- maps ------------------------------------------------------------------

export type AggKind = 'none' | 'count' | 'sum' | 'min' | 'max' | 'avg' | 'stats' | 'hist' | 'lhist';

/** One key of a map: `key` is [] for a scalar map, one Value per key part otherwise. */
export interface MapEntry<T> { key: Value[]; value: T }

interface MapBase { /** With the sigil, e.g. "@x" or "@". */ name: string }
/** count/sum/min/max, merged over CPUs. `signed` follows the aggregated expression. */
export interface NumberMap extends MapBase { kind: 'count' | 'sum' | 'min' | 'max'; signed: boolean; entries: MapEntry<bigint>[] }
/** avg/stats: the running count and total (average is total / count). */
export interface AvgMap extends MapBase { kind: 'avg' | 'stats'; signed: boolean; entries: MapEntry<{ count: bigint; total: bigint }>[] }
/**
 * hist: bucket counts indexed like bpftrace's map: 0 is negative values, then
 * 2^k single-value buckets for 0..., then 2^k buckets per power of two.
 * Trailing zero buckets may be left off.
 */
export interface HistMap extends MapBase { kind: 'hist'; k: number; entries: MapEntry<bigint[]>[] }
/** lhist: index 0 is below `min`, 1..n the steps, n+1 is `max` and above. */
export interface LhistMap extends MapBase { kind: 'lhist'; min: number; max: number; step: number; entries: MapEntry<bigint[]>[] }
/** A map assigned plain values (`@x[k] = expr`). */
export interface ValueMap extends MapBase { kind: 'none'; entries: MapEntry<Value>[] }

export type MapSnapshot = NumberMap | AvgMap | HistMap | LhistMap | ValueMap;

// ---- builders (tests and the runtime use these) ------------------------------

export const int = (value: bigint | number, bits: IntBits = 64): IntValue => ({ kind: 'int', value: BigInt(value), bits, signed: true });
export const uint = (value: bigint | number, bits: IntBits = 64): IntValue => ({ kind: 'int', value: BigInt(value), bits, signed: false });
export const bool = (value: boolean): BoolValue => ({ kind: 'bool', value });
export const str = (value: string): StrValue => ({ kind: 'str', value });
export const buf = (bytes: Uint8Array | number[]): BufValue => ({ kind: 'buf', bytes: Uint8Array.from(bytes) });
export const tuple = (...items: Value[]): TupleValue => ({ kind: 'tuple', items });
export const record = (fields: [string, Value][]): RecordValue => ({ kind: 'record', fields: fields.map(([name, value]) => ({ name, value })) });
export const array = (items: Value[]): ArrayValue => ({ kind: 'array', items });
export const ptr = (value: bigint): PointerValue => ({ kind: 'ptr', value });
export const none = (): NoneValue => ({ kind: 'none' });
export const inet = (bytes: Uint8Array | number[]): InetValue => ({ kind: 'inet', bytes: Uint8Array.from(bytes) });
export const mac = (bytes: Uint8Array | number[]): MacValue => ({ kind: 'mac', bytes: Uint8Array.from(bytes) });
export const timestamp = (format: string, epochNs: bigint): TimestampValue => ({ kind: 'timestamp', format, epochNs });
export const ksym = (addr: bigint, symbol?: string): SymValue => ({ kind: 'ksym', addr, symbol });
export const usym = (addr: bigint, symbol?: string, pid?: number): SymValue => ({ kind: 'usym', addr, symbol, pid });
export const stack = (user: boolean, frames: StackFrame[], mode: StackMode = 'bpftrace', pid?: number): StackValue => ({ kind: 'stack', user, mode, frames, pid });
export const strerrorValue = (errno: number): StrerrorValue => ({ kind: 'strerror', errno });
export const cgroupPath = (path: string): CgroupPathValue => ({ kind: 'cgroup_path', path });
export const username = (name: string): UsernameValue => ({ kind: 'username', name });
export const probe = (name: string): ProbeValue => ({ kind: 'probe', name });
