// String map keys are stored in one BPF map per length bucket (16, 64, 256
// and max_strlen bytes; resources.ts strBuckets). These programs put strings
// on both sides of every bucket boundary, in an order that leaves a long
// string's bytes behind in scratch memory before a short one is read, and
// check that every map operation finds the one entry a string has.
import { runTable, type Case } from './lang-table.js';

/** A path of exactly `len` bytes that does not exist (components stay under NAME_MAX). */
function path(len: number, fill: string): string {
  let p = '/nonexistent';
  while (p.length < len) p += p.length % 50 === 0 ? '/' : fill;
  return p.slice(0, len);
}

const lens = [15, 16, 63, 64, 255, 256, 1000];
const paths = lens.map((n, i) => path(n, 'abcdefg'[i]));
const opens = (order: number[]): string[] => order.flatMap((i) => ['open', paths[i], String(i + 1)]);
// Long strings first, so short ones are read over their leftovers.
const order = [6, 5, 4, 3, 2, 1, 0];
const counted = lens.map((_, i) => `@[${paths[i]}]: ${i + 1}\n`).join('');
const filter = 'comm == "bpfkit_wl" && args->flags == 0';

const cases: Case[] = [
  {
    name: 'count keyed by strings of every bucket size',
    prog: `tracepoint:syscalls:sys_enter_openat /${filter}/ { @[str(args->filename)] = count(); }`,
    workload: opens(order),
    expect: `Attaching 1 probe...\n\n\n${counted}`,
  },
  {
    name: 'the same string through a variable and through str() is one key',
    prog: `tracepoint:syscalls:sys_enter_openat /${filter}/ { $s = str(args->filename); @[$s] = count(); @[str(args->filename)] = count(); }`,
    workload: opens(order),
    expect: `Attaching 1 probe...\n\n\n${lens.map((_, i) => `@[${paths[i]}]: ${2 * (i + 1)}\n`).join('')}`,
  },
  {
    // Path 3 reaches 3 twice (deleted both times), path 4 once, and the
    // counts left differ, so the printed order is fixed.
    name: 'in-kernel reads and deletes find the entry',
    prog: `tracepoint:syscalls:sys_enter_openat /${filter}/ { @c[str(args->filename)]++; if (@c[str(args->filename)] == 3) { delete(@c[str(args->filename)]); @three[str(args->filename)] = count(); } }`,
    workload: ['open', paths[0], '1', 'open', paths[6], '2', 'open', paths[3], '6', 'open', paths[4], '3'],
    expect: `Attaching 1 probe...\n\n\n@c[${paths[0]}]: 1\n@c[${paths[6]}]: 2\n@three[${paths[4]}]: 1\n@three[${paths[3]}]: 2\n`,
  },
  {
    name: 'has_key on bucketed keys',
    prog: `tracepoint:syscalls:sys_enter_openat /${filter}/ { if (has_key(@seen, str(args->filename))) { @again[str(args->filename)] = count(); } @seen[str(args->filename)] = 1; } END { clear(@seen); }`,
    workload: opens(order),
    expect: `Attaching 2 probes...\n\n\n${lens.map((_, i) => (i ? `@again[${paths[i]}]: ${i}\n` : '')).join('')}\n`,
  },
  {
    name: 'comm and string key',
    prog: `tracepoint:syscalls:sys_enter_openat /${filter}/ { @[comm, str(args->filename)] = count(); }`,
    workload: opens(order),
    expect: `Attaching 1 probe...\n\n\n${lens.map((_, i) => `@[bpfkit_wl, ${paths[i]}]: ${i + 1}\n`).join('')}`,
  },
  {
    name: 'string key that is not last (one full-size map)',
    prog: `tracepoint:syscalls:sys_enter_openat /${filter}/ { @[str(args->filename), 7] = count(); }`,
    workload: opens(order),
    expect: `Attaching 1 probe...\n\n\n${lens.map((_, i) => `@[${paths[i]}, 7]: ${i + 1}\n`).join('')}`,
  },
  {
    name: 'lhist keyed by string',
    prog: `tracepoint:syscalls:sys_enter_openat /${filter}/ { @[str(args->filename)] = lhist(args->flags, 0, 10, 5); }`,
    workload: opens([6, 0]),
    expect: `Attaching 1 probe...\n\n\n@[${paths[0]}]: \n[0, 5)                 1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n\n@[${paths[6]}]: \n[0, 5)                 7 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n\n`,
  },
  {
    name: 'for over a string-keyed map (keys kept whole)',
    prog: `tracepoint:syscalls:sys_enter_openat /${filter}/ { @m[str(args->filename)] = count(); } END { for ($kv : @m) { @n = count(); @total = sum($kv.1); } clear(@m); }`,
    workload: opens([6, 0, 5, 1]),
    expect: 'Attaching 2 probes...\n\n\n\n@n: 4\n@total: 16\n',
  },
  {
    name: 'json output of a bucketed map',
    prog: `tracepoint:syscalls:sys_enter_openat /${filter}/ { @[str(args->filename)] = count(); }`,
    flags: ['-f', 'json'],
    workload: opens([0, 6]),
    expect: `{"type": "attached_probes", "data": {"probes": 1}}\n\n\n{"type": "map", "data": {"@": {"${paths[0]}": 1, "${paths[6]}": 7}}}\n`,
  },
  {
    name: 'short strings compared with bpftrace',
    prog: `tracepoint:syscalls:sys_enter_openat /${filter}/ { @[str(args->filename)] = count(); }`,
    workload: ['open', '/nonexistent/a', '1', 'open', '/nonexistent/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', '2'],
    bt: true,
    expect: 'Attaching 1 probe...\n\n\n@[/nonexistent/a]: 1\n@[/nonexistent/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb]: 2\n',
  },
];

runTable('string map keys', cases);
