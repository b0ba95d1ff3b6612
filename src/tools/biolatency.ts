// biolatency's options (BCC's tools/biolatency.py), how they shape the
// program, and BCC's histogram layouts (text and -j) for what it prints.
import { existsSync } from 'node:fs';
import type { Io } from '../cli/trace.js';
import type { HistMap, MapSnapshot, Value } from '../output/value.js';
import { readTemplate, render, strLit, ToolUsageError, type Parsed } from './options.js';
import { hasTracepoint, type Tool } from './tool.js';

export const biolatency: Tool = {
  name: 'biolatency',
  description: 'Summarize block device I/O latency as a histogram',
  options: [
    { key: 'timestamp', short: '-T', long: '--timestamp', help: 'include timestamp on output' },
    { key: 'queued', short: '-Q', long: '--queued', help: 'include OS queued time in I/O time' },
    { key: 'milliseconds', short: '-m', long: '--milliseconds', help: 'millisecond histogram' },
    { key: 'disks', short: '-D', long: '--disks', help: 'print a histogram per disk device' },
    { key: 'flags', short: '-F', long: '--flags', help: 'print a histogram per set of I/O flags' },
    { key: 'extension', short: '-e', long: '--extension', help: 'summarize average/total value' },
    { key: 'json', short: '-j', long: '--json', help: 'json output' },
    { key: 'disk', short: '-d', long: '--disk', arg: 'DISK', help: 'Trace this disk only' },
  ],
  positionals: [
    { key: 'interval', help: 'output interval, in seconds', type: 'int' },
    { key: 'count', help: 'number of outputs', type: 'int' },
  ],
  examples: [
    ['', 'summarize block I/O latency as a histogram'],
    ['1 10', 'print 1 second summaries, 10 times'],
    ['-mT 1', '1s summaries, milliseconds, and timestamps'],
    ['-Q', 'include OS queued time in I/O time'],
    ['-D', 'show each disk device separately'],
    ['-F', 'show I/O flags separately'],
    ['-j', 'print a dictionary'],
    ['-e', 'show extension summary(total, average)'],
    ['-d sdc', 'Trace sdc only'],
  ],
  unavailable() {
    if (!hasTracepoint('block', 'block_rq_issue') || !hasTracepoint('block', 'block_rq_complete')) return 'needs the block:block_rq_issue and block:block_rq_complete tracepoints';
    return undefined;
  },
  program: biolatencyProgram,
  hooks: (o) => ({ printMap: (snap, io) => printBcc(snap, io, o) }),
};

function biolatencyProgram(o: Parsed): string {
  if (o.flags && o.disks) throw new ToolUsageError('ERROR: can only use -D or -F. Exiting.', 1);
  if (o.disk !== undefined && !existsSync(`/dev/${o.disk}`)) throw new ToolUsageError(`no such disk '${o.disk}'`, 1);
  const label = o.milliseconds ? 'msecs' : 'usecs';
  // Like BCC: the accounting start (queued time included) with -Q, else the issue to the driver;
  // the accounting end, else the completion.
  const start = o.queued ? (hasTracepoint('block', 'block_io_start') ? 'block_io_start' : 'block_rq_insert') : 'block_rq_issue';
  const done = hasTracepoint('block', 'block_io_done') ? 'block_io_done' : 'block_rq_complete';
  const printBlock = [
    'printf("\\n");',
    o.timestamp && 'time("%H:%M:%S\\n");',
    `print(@${label});`,
    o.extension && 'print(@ext);',
    `clear(@${label});`,
    o.extension && 'clear(@ext);',
  ].filter(Boolean).join('\n');
  const interval = o.interval as number | undefined;
  const count = o.count as number | undefined;
  if (interval !== undefined && interval <= 0) throw new ToolUsageError('bpfkit biolatency: the interval must be a positive number of seconds');
  return render(readTemplate('biolatency'), {
    START_DESC: o.queued ? 'the time it is queued' : 'its issue to the device driver',
    LABEL: label,
    HEADER: o.json ? '' : 'BEGIN\n{\n\tprintf("Tracing block device I/O... Hit Ctrl-C to end.\\n");\n}',
    START: start,
    START_FILTER: o.disk !== undefined ? `/((struct request *)arg0)->q->disk->disk_name == ${strLit(o.disk as string)}/` : '',
    DONE: done,
    FACTOR: o.milliseconds ? 1000000 : 1000,
    KEY: o.disks ? '[$rq->q->disk->disk_name]' : o.flags ? '[$rq->cmd_flags]' : '',
    EXT_STORE: o.extension ? '@ext = stats($delta);' : '',
    INTERVAL:
      interval === undefined
        ? ''
        : `interval:s:${interval}\n{\n${indent(printBlock, 1)}\n` +
          (count !== undefined ? `\t@intervals++;\n\tif (@intervals >= ${count}) {\n\t\t@done = 1;\n\t\texit();\n\t}\n` : '') +
          '}',
    END_PRINT: count !== undefined ? `if (@done == 0) {\n${indent(printBlock, 1)}\n}\nclear(@intervals);\nclear(@done);` : printBlock,
  });
}

function indent(s: string, n: number): string {
  return s.split('\n').map((l) => (l ? '\t'.repeat(n) + l : l)).join('\n');
}

// ---- BCC's output -------------------------------------------------------------

/** Counts per BCC log2 slot (slot 1 = 0..1, slot s = 2^(s-1)..2^s-1) from bpftrace hist buckets. */
export function bccSlots(buckets: bigint[]): bigint[] {
  const slots: bigint[] = [];
  // bpftrace: index 1 is value 0, index 2 value 1, index i >= 3 is [2^(i-2), 2^(i-1)).
  slots[1] = (buckets[1] ?? 0n) + (buckets[2] ?? 0n);
  for (let i = 3; i < buckets.length; i++) slots[i - 1] = (slots[i - 1] ?? 0n) + buckets[i];
  for (let s = 0; s < slots.length; s++) slots[s] ??= 0n;
  return slots;
}

function stars(val: bigint, max: bigint, width: number): string {
  let i = 0;
  let text = '';
  const limit = (width * Number(val)) / Number(max) - 1;
  while (!(i > limit || i > width - 1)) {
    text += '*';
    i++;
  }
  if (val > max) text = text.slice(0, -1) + '+';
  return text;
}

/** BCC's _print_log2_hist(). */
export function log2HistText(slots: bigint[], valType: string): string {
  let idxMax = -1;
  let valMax = 0n;
  slots.forEach((v, i) => {
    if (v > 0n) idxMax = i;
    if (v > valMax) valMax = v;
  });
  const wide = idxMax > 32;
  const starsMax = wide ? 20 : 40;
  let out = '';
  if (idxMax > 0) out += wide ? `               ${valType.padEnd(29)} : count     distribution\n` : `     ${valType.padEnd(19)} : count     distribution\n`;
  for (let i = 1; i <= idxMax; i++) {
    let low = (1n << BigInt(i)) >> 1n;
    const high = (1n << BigInt(i)) - 1n;
    if (low === high) low -= 1n;
    const v = slots[i] ?? 0n;
    const w = wide ? 20 : 10;
    out += `${String(low).padStart(w)} -> ${String(high).padEnd(w)} : ${String(v).padEnd(8)} |${stars(v, valMax, starsMax).padEnd(starsMax)}|\n`;
  }
  return out;
}

/** Python's repr() of a str. */
function pyStr(s: string): string {
  return s.includes("'") && !s.includes('"') ? `"${s}"` : `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

function nowText(): string {
  const d = new Date();
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

/** BCC's _print_json_hist(): a Python dict, printed with print(). */
export function jsonHistText(slots: bigint[], valType: string, section?: [string, string]): string {
  let maxNz = 0;
  slots.forEach((v, i) => {
    if (v !== 0n) maxNz = i;
  });
  const data: string[] = [];
  let index = 1n;
  let prev = 0n;
  for (let i = 1; i <= maxNz; i++) {
    index *= 2n;
    data.push(`{'interval-start': ${prev}, 'interval-end': ${index - 1n}, 'count': ${slots[i] ?? 0n}}`);
    prev = index;
  }
  let text = `{'ts': ${pyStr(nowText())}, 'val_type': ${pyStr(valType)}, 'data': [${data.join(', ')}]`;
  if (section) text += `, ${pyStr(section[0])}: ${pyStr(section[1])}`;
  return `${text}}\n`;
}

// See blk_fill_rwbs() and include/linux/blk_types.h (REQ_OP_BITS = 8).
const REQ_OPS: Record<number, string> = {
  0: 'Read', 1: 'Write', 2: 'Flush', 3: 'Discard', 5: 'SecureErase', 7: 'ZoneAppend', 9: 'WriteZeros',
  10: 'ZoneOpen', 11: 'ZoneClose', 12: 'ZoneFinish', 13: 'ZoneReset', 15: 'ZoneResetAll', 34: 'DrvIn', 35: 'DrvOut',
};
const REQ_FLAGS: [number, string][] = [
  [1 << 11, 'Sync'], [1 << 12, 'Metadata'], [1 << 17, 'ForcedUnitAccess'], [1 << 13, 'Priority'], [1 << 14, 'NoMerge'],
  [1 << 15, 'Idle'], [1 << 19, 'ReadAhead'], [1 << 20, 'Background'], [1 << 21, 'NoWait'],
];

/** BCC's flags_print(): "Sync-Write" and the like. */
export function flagsText(flags: number): string {
  let desc = REQ_OPS[flags & 0xff] ?? 'Unknown';
  for (const [bit, name] of REQ_FLAGS) if (flags & bit) desc = `${name}-${desc}`;
  return desc;
}

function keyText(v: Value | undefined): string {
  if (!v) return '';
  if (v.kind === 'str') return v.value;
  if (v.kind === 'int') return String(v.value);
  return '';
}

function printBcc(snap: MapSnapshot, io: Io, o: Parsed): void {
  const label = o.milliseconds ? 'msecs' : 'usecs';
  if (snap.kind === 'stats' || snap.kind === 'avg') {
    // BCC's -e line: the average truncated like Python's "%ld" of a float.
    const e = snap.entries[0]?.value;
    if (e && e.count > 0n && !o.json) io.out(`\navg = ${e.total / e.count} ${label}, total: ${e.total} ${label}, count: ${e.count}\n\n`);
    return;
  }
  if (snap.kind !== 'hist') return;
  const h = snap as HistMap;
  const sectioned = o.disks || o.flags;
  if (!sectioned) {
    const slots = bccSlots(h.entries[0]?.value ?? []);
    io.out(o.json ? jsonHistText(slots, label) : log2HistText(slots, label));
    return;
  }
  const sections = h.entries.map((e) => {
    const k = e.key[0];
    const name = o.flags ? flagsText(Number(k?.kind === 'int' ? k.value : 0n)) : keyText(k) || '?';
    return { name, sort: o.flags && k?.kind === 'int' ? Number(k.value) : 0, slots: bccSlots(e.value) };
  });
  sections.sort((a, b) => a.sort - b.sort || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const header = o.flags ? 'flags' : 'disk';
  for (const s of sections) {
    if (o.json) io.out(jsonHistText(s.slots, label, [header, s.name]));
    else io.out(`\n${header} = ${s.name}\n${log2HistText(s.slots, label)}`);
  }
}
