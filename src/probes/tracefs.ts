// tracefs: where tracepoints are listed and described. Attaching needs only an
// event's id (perf_event_open takes it), argument access needs its format
// file, and listing needs both. tracefs is often unmounted on minimal
// machines, so the first caller mounts it rather than failing.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { SysError, mount } from '../bpf/sys.js';
import { decimal, isDigit, isIdentChar, isSpace } from '../chars.js';

const TRACING = '/sys/kernel/tracing';
const DEBUG_TRACING = '/sys/kernel/debug/tracing';
const MS_NOSUID = 2;
const MS_NODEV = 4;
const MS_NOEXEC = 8;

export class TracefsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TracefsError';
  }
}

export interface TracepointField {
  name: string;
  /**
   * C text of the type as in the format file, the array suffix moved onto the
   * type: `const char *`, `char[16]`; `char[]` for a `__data_loc char[]` field
   * (whose `dataLoc` is set).
   */
  type: string;
  offset: number;
  size: number;
  signed: boolean;
  /** `__data_loc`: the slot holds (length << 16 | offset) of data stored after the record. */
  dataLoc: boolean;
  /** `__rel_loc`: like `__data_loc`, the offset counted from the end of the slot. */
  relLoc: boolean;
  /** Element count of an array field: 0 for `[]`, null for a non-array. */
  arrayLen: number | null;
  /** One of the `common_*` fields every event starts with. */
  common: boolean;
}

export interface TracepointFormat {
  id: number;
  fields: TracepointField[];
  /** The `print fmt:` text, which may span lines. */
  printFmt: string;
}

/** Mount points of tracefs, from /proc/mounts (octal escapes undone). */
function tracefsMounts(): string[] {
  let text: string;
  try {
    text = readFileSync('/proc/mounts', 'utf8');
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    if (f[2] === 'tracefs') out.push(f[1].replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))));
  }
  return out;
}

let cachedPath: string | undefined;

/**
 * The tracefs directory: /sys/kernel/tracing when tracefs is mounted there,
 * else /sys/kernel/debug/tracing when that is tracefs, else another tracefs
 * mount; failing all three, tracefs is mounted on /sys/kernel/tracing (which
 * needs root).
 *
 *     readFileSync(`${tracefsPath()}/events/sched/sched_switch/id`)
 */
export function tracefsPath(): string {
  // The cheap check keeps the answer honest when someone unmounts it under us.
  if (cachedPath !== undefined && existsSync(`${cachedPath}/events`)) return cachedPath;
  cachedPath = undefined;
  // sysfs keeps /sys/kernel/tracing an empty directory for tracefs to be
  // mounted on: events/ there means tracefs is, without reading the mount table.
  if (existsSync(`${TRACING}/events`)) return (cachedPath = TRACING);
  let mounts = tracefsMounts();
  if (!mounts.includes(DEBUG_TRACING) && existsSync(`${DEBUG_TRACING}/events`)) {
    // With debugfs mounted, the first access to debug/tracing automounts tracefs.
    mounts = tracefsMounts();
  }
  const found = [DEBUG_TRACING, ...mounts].find((p) => mounts.includes(p) && existsSync(`${p}/events`));
  if (found) return (cachedPath = found);
  if (!existsSync(TRACING)) {
    throw new TracefsError(`tracefs is not mounted and ${TRACING} does not exist (kernel built without CONFIG_TRACING?)`);
  }
  try {
    mount('nodev', TRACING, 'tracefs', MS_NOSUID | MS_NODEV | MS_NOEXEC);
  } catch (e) {
    if (e instanceof SysError && (e.code === 'EPERM' || e.code === 'EACCES')) {
      throw new TracefsError(`tracefs is not mounted and mounting it needs root: mount -t tracefs nodev ${TRACING}`);
    }
    throw new TracefsError(`tracefs is not mounted and mounting it on ${TRACING} failed: ${(e as Error).message}`);
  }
  if (!existsSync(`${TRACING}/events`)) throw new TracefsError(`mounted tracefs on ${TRACING} but it has no events/ directory`);
  return (cachedPath = TRACING);
}

/** Names in events/ are kernel identifiers; anything else cannot be an event (and must not walk the tree). */
function validPart(s: string): boolean {
  return s !== '' && s !== '.' && s !== '..' && !s.includes('/') && !s.includes('\0');
}

function eventDir(category: string, name: string): string {
  if (!validPart(category) || !validPart(name)) throw notFound(category, name);
  return `${tracefsPath()}/events/${category}/${name}`;
}

function notFound(category: string, name: string): TracefsError {
  return new TracefsError(`tracepoint not found: ${category}:${name}`);
}

/** Every tracepoint, in available_events order (or directory order when that file cannot be read). */
export function listEvents(): { category: string; name: string }[] {
  const root = tracefsPath();
  try {
    const out: { category: string; name: string }[] = [];
    for (const line of readFileSync(`${root}/available_events`, 'utf8').split('\n')) {
      const i = line.indexOf(':');
      if (i > 0) out.push({ category: line.slice(0, i), name: line.slice(i + 1) });
    }
    return out;
  } catch {
    return walkEvents(`${root}/events`);
  }
}

function walkEvents(dir: string): { category: string; name: string }[] {
  const out: { category: string; name: string }[] = [];
  for (const cat of readdirSync(dir, { withFileTypes: true })) {
    // ftrace's own events (function, print...) have directories but are not
    // tracepoints, and available_events leaves them out too.
    if (!cat.isDirectory() || cat.name === 'ftrace') continue;
    for (const ev of readdirSync(`${dir}/${cat.name}`, { withFileTypes: true })) {
      if (ev.isDirectory()) out.push({ category: cat.name, name: ev.name });
    }
  }
  return out;
}

function readEventFile(category: string, name: string, file: string): string {
  const path = `${eventDir(category, name)}/${file}`;
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw notFound(category, name);
    throw new TracefsError(`cannot read ${path}: ${(e as Error).message}`);
  }
}

/** The event id perf_event_open wants for a tracepoint. */
export function eventId(category: string, name: string): number {
  const text = readEventFile(category, name, 'id').trim();
  const id = Number(text);
  if (!Number.isInteger(id) || text === '') throw new TracefsError(`tracepoint ${category}:${name}: bad id '${text}'`);
  return id;
}

const formats = new Map<string, TracepointFormat>();

/** Fields and print format of a tracepoint; read once per process. */
export function eventFormat(category: string, name: string): TracepointFormat {
  const key = `${category}:${name}`;
  let f = formats.get(key);
  if (!f) {
    try {
      f = parseFormat(readEventFile(category, name, 'format'));
    } catch (e) {
      if (e instanceof TracefsError) throw e;
      throw new TracefsError(`tracepoint ${key}: ${(e as Error).message}`);
    }
    formats.set(key, f);
  }
  return f;
}

// The declared name is the last identifier, before any array dimensions.
const DECL_RE = /^(.*?)\s*([A-Za-z_]\w*)\s*((?:\[[^\]]*\]\s*)*)$/;

/** Where the `[...]` groups that end `s` begin (`s.length` when none does); blanks between groups only with `blanks`. */
function trailingDims(s: string, blanks = false): number {
  let start = s.length;
  for (;;) {
    let e = start;
    if (blanks) while (e > 0 && isSpace(s.charCodeAt(e - 1))) e--;
    if (s[e - 1] !== ']') return start;
    const open = s.lastIndexOf('[', e - 2);
    if (open < 0 || s.lastIndexOf(']', e - 2) > open) return start;
    start = open;
  }
}

/** `field:DECL;\toffset:N;\tsize:N;\tsigned:N;` (signed optional), as the lines of a format file read. */
function fieldLine(line: string): { decl: string; offset: number; size: number; signed: boolean } | undefined {
  let rest = line.trimStart();
  if (!rest.startsWith('field:')) return undefined;
  const semi = rest.indexOf(';');
  if (semi < 0) return undefined;
  const decl = rest.slice(6, semi);
  rest = rest.slice(semi + 1);
  const num = (key: string): number | undefined => {
    const t = rest.trimStart();
    if (!t.startsWith(key)) return undefined;
    const e = t.indexOf(';', key.length);
    const v = e < 0 ? undefined : decimal(t.slice(key.length, e));
    if (v !== undefined) rest = t.slice(e + 1);
    return v;
  };
  const offset = num('offset:');
  const size = offset === undefined ? undefined : num('size:');
  if (offset === undefined || size === undefined) return undefined;
  return { decl, offset, size, signed: num('signed:') === 1 };
}

/** Splits DECL_RE's way: type, the last identifier (the name), then array dimensions; undefined when that does not work out. */
function splitDecl(rest: string): [type: string, name: string, dims: string] | undefined {
  const d = trailingDims(rest, true);
  const head = rest.slice(0, d).trimEnd();
  let n = head.length;
  while (n > 0 && isIdentChar(head.charCodeAt(n - 1))) n--;
  while (n < head.length && isDigit(head.charCodeAt(n))) n++;
  if (n === head.length) return undefined;
  return [head.slice(0, n).trimEnd(), head.slice(n), rest.slice(d)];
}

/** Splits `const char * filename`, `char comm[16]`, `__data_loc char[] name` into a field's parts. */
function parseDecl(decl: string): Pick<TracepointField, 'name' | 'type' | 'dataLoc' | 'relLoc' | 'arrayLen'> {
  let rest = decl.trim();
  let loc: '__data_loc' | '__rel_loc' | undefined;
  for (const k of ['__data_loc', '__rel_loc'] as const) {
    if (rest.startsWith(k) && isSpace(rest.charCodeAt(k.length))) {
      loc = k;
      rest = rest.slice(k.length).trimStart();
    }
  }
  const m = splitDecl(rest) ?? DECL_RE.exec(rest)?.slice(1, 4);
  if (!m || m[0] === '') throw new TracefsError(`cannot parse field declaration '${decl}'`);
  let dims = '';
  for (const ch of m[2]) if (!isSpace(ch.charCodeAt(0))) dims += ch;
  const type = m[0] + dims;
  // Dimensions sit on the name in `char comm[16]` and on the type in `char[] name`.
  const at = trailingDims(type);
  let arrayLen: number | null = null;
  if (at < type.length) {
    arrayLen = 1;
    for (const d of type.slice(at + 1, -1).split('][')) {
      const n = d === '' ? 0 : Number(d);
      arrayLen = Number.isInteger(n) ? arrayLen * n : 0;
    }
  }
  return { name: m[1], type, dataLoc: loc === '__data_loc', relLoc: loc === '__rel_loc', arrayLen };
}

/**
 * Parses the text of an events/CATEGORY/NAME/format file. Fields before the
 * first blank line are the common ones every event shares.
 */
export function parseFormat(text: string): TracepointFormat {
  const lines = text.split('\n');
  let id: number | undefined;
  for (const l of lines) if (id === undefined && l.startsWith('ID:')) id = decimal(l.slice(3).trim());
  if (id === undefined) throw new TracefsError('format has no ID line');
  const fields: TracepointField[] = [];
  let i = lines.findIndex((l) => l.startsWith('format:'));
  if (i < 0) throw new TracefsError('format has no format: section');
  let common = true;
  let printFmt = '';
  for (i++; i < lines.length; i++) {
    const line = lines[i];
    if (line.startsWith('print fmt: ')) {
      printFmt = lines.slice(i).join('\n').slice('print fmt: '.length);
      while (printFmt.endsWith('\n')) printFmt = printFmt.slice(0, -1);
      break;
    }
    if (line.trim() === '') {
      if (fields.length > 0) common = false;
      continue;
    }
    const m = fieldLine(line);
    if (!m) continue;
    fields.push({ ...parseDecl(m.decl), offset: m.offset, size: m.size, signed: m.signed, common });
  }
  return { id, fields, printFmt };
}

/**
 * The line `bpftrace -lv tracepoint:...` prints for a field: four spaces and
 * the declaration as the format file spells it (`const char * filename`,
 * `char prev_comm[16]`, `__data_loc char[] filename`). Common fields are not
 * listed; callers skip them.
 */
export function formatFieldForListing(f: TracepointField): string {
  if (f.dataLoc || f.relLoc) return `    ${f.dataLoc ? '__data_loc' : '__rel_loc'} ${f.type} ${f.name}`;
  const at = trailingDims(f.type);
  if (at < f.type.length) return `    ${f.type.slice(0, at)} ${f.name}${f.type.slice(at)}`;
  return `    ${f.type} ${f.name}`;
}
