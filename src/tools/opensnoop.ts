// opensnoop's options (BCC's tools/opensnoop.py) and how they shape the program.
import { predicate, readTemplate, render, resolveUid, Columns, strLit, ToolUsageError, type Parsed } from './options.js';
import { hasTracepoint, type Tool } from './tool.js';

/** Path components -F walks up from the working directory (BCC's MAX_ENTRIES). */
const MAX_DEPTH = 32;

/** O_* flags as this architecture (x86_64) defines them, for -f. */
const OPEN_FLAGS: Record<string, number> = {
  O_RDONLY: 0o0, O_WRONLY: 0o1, O_RDWR: 0o2, O_CREAT: 0o100, O_EXCL: 0o200, O_NOCTTY: 0o400, O_TRUNC: 0o1000,
  O_APPEND: 0o2000, O_NONBLOCK: 0o4000, O_NDELAY: 0o4000, O_DSYNC: 0o10000, O_ASYNC: 0o20000, O_DIRECT: 0o40000,
  O_LARGEFILE: 0o100000, O_DIRECTORY: 0o200000, O_NOFOLLOW: 0o400000, O_NOATIME: 0o1000000, O_CLOEXEC: 0o2000000,
  O_SYNC: 0o4010000, O_PATH: 0o10000000, O_TMPFILE: 0o20200000,
};

export const opensnoop: Tool = {
  name: 'opensnoop',
  description: 'Trace open() syscalls',
  options: [
    { key: 'timestamp', short: '-T', long: '--timestamp', help: 'include timestamp on output' },
    { key: 'print_uid', short: '-U', long: '--print-uid', help: 'print UID column' },
    { key: 'failed', short: '-x', long: '--failed', help: 'only show failed opens' },
    { key: 'pid', short: '-p', long: '--pid', arg: 'PID', type: 'int', help: 'trace this PID only' },
    { key: 'tid', short: '-t', long: '--tid', arg: 'TID', type: 'int', help: 'trace this TID only' },
    { key: 'uid', short: '-u', long: '--uid', arg: 'UID', help: 'trace this UID only' },
    { key: 'duration', short: '-d', long: '--duration', arg: 'DURATION', type: 'int', help: 'total duration of trace in seconds' },
    { key: 'name', short: '-n', long: '--name', arg: 'NAME', help: 'only print process names containing this name' },
    { key: 'extended_fields', short: '-e', long: '--extended_fields', help: 'show extended fields' },
    { key: 'flag_filter', short: '-f', long: '--flag_filter', arg: 'FLAG_FILTER', type: 'list', help: 'filter on flags argument (e.g., O_WRONLY)' },
    { key: 'full_path', short: '-F', long: '--full-path', help: 'show full path for an open file with relative path' },
  ],
  examples: [
    ['', 'trace all open() syscalls'],
    ['-T', 'include timestamps'],
    ['-U', 'include UID'],
    ['-x', 'only show failed opens'],
    ['-p 181', 'only trace PID 181'],
    ['-t 123', 'only trace TID 123'],
    ['-u 1000', 'only trace UID 1000'],
    ['-d 10', 'trace for 10 seconds only'],
    ['-n main', 'only print process names containing "main"'],
    ['-e', 'show extended fields'],
    ['-f O_WRONLY -f O_RDWR', 'only print calls for writing'],
    ['-F', 'show full path for an open file with relative path'],
  ],
  program: opensnoopProgram,
};

function opensnoopProgram(o: Parsed): string {
  let mask: number | undefined;
  for (const f of (o.flag_filter as string[] | undefined) ?? []) {
    if (!f.startsWith('O_') || !(f in OPEN_FLAGS)) throw new ToolUsageError(`Bad flag: ${f}`, 1);
    mask = (mask ?? 0) | OPEN_FLAGS[f];
  }
  const uid = o.uid !== undefined ? resolveUid(o.uid as string) : undefined;
  const byTid = o.tid !== undefined;
  // Flags and mode are kept only when shown (BCC drops its EXTENDED_STRUCT_MEMBERs likewise).
  const ext = !!o.extended_fields;

  // Filters at entry: BCC's PID_TID_FILTER (TID wins), UID_FILTER, FLAGS_FILTER; the name test too, as comm is the same.
  const common = [
    byTid ? `tid == ${o.tid}` : o.pid !== undefined && `pid == ${o.pid}`,
    uid !== undefined && `uid == ${uid}`,
    o.name !== undefined && `strcontains(comm, ${strLit(o.name as string)})`,
  ];
  const plain = ['open', 'openat'].filter((s) => hasTracepoint('syscalls', `sys_enter_${s}`));
  const entries: string[] = [];
  if (plain.length) {
    entries.push(
      probe(
        plain.map((s) => `tracepoint:syscalls:sys_enter_${s}`),
        predicate([...common, mask !== undefined && `(args.flags & ${mask})`]),
        ext ? '@open_name[tid] = args.filename;\n@open_flags[tid] = args.flags;\n@open_mode[tid] = args.mode;' : '@open_name[tid] = args.filename;',
      ),
    );
  }
  const has2 = hasTracepoint('syscalls', 'sys_enter_openat2');
  if (has2) {
    const body = ext ? '@open_name[tid] = args.filename;\n@open_flags[tid] = $how->flags;\n@open_mode[tid] = $how->mode;' : '@open_name[tid] = args.filename;';
    entries.push(
      (ext || mask !== undefined ? '// openat2 passes flags and mode in a struct open_how.\n' : '') +
        probe(
          ['tracepoint:syscalls:sys_enter_openat2'],
          predicate(common),
          mask !== undefined ? `$how = args.how;\nif ($how->flags & ${mask}) {\n${indent(body, 1)}\n}` : ext ? `$how = args.how;\n${body}` : body,
        ),
    );
  }
  const exits = [...plain, ...(has2 ? ['openat2'] : [])].map((s) => `tracepoint:syscalls:sys_exit_${s}`).join(',\n');

  const cols = new Columns();
  if (o.timestamp) {
    // BCC counts from the first event it sees.
    cols.seconds('TIME(s)', 14, '$ts', '$now - @open_t0', 9, '$now = nsecs;\nif (@open_t0 == 0) {\n\t@open_t0 = $now;\n}');
  }
  if (o.print_uid) cols.add('UID', 6, '%-6d', 'uid');
  cols.add(
    `${(byTid ? 'TID' : 'PID').padEnd(6)} ${'COMM'.padEnd(16)} ${'FD'.padStart(4)} ${'ERR'.padStart(3)} `,
    0,
    '%-6d %-16s %4d %3d ',
    byTid ? 'tid' : 'pid', 'comm', '$ret >= 0 ? $ret : -1', '$ret >= 0 ? 0 : -$ret',
  );
  if (o.extended_fields) cols.add(`${'FLAGS'.padEnd(9)}${'MODE'.padEnd(5)}`, 0, '%08o %04o ', '@open_flags[tid]', '@open_mode[tid]');

  const body: string[] = [];
  if (o.full_path) {
    // A relative name gets the working directory in front: its dentries walked up to the root,
    // crossing mount points, one component per slot of @open_path (leaf first).
    body.push(
      '$name = str(@open_name[tid]);',
      '$rel = 0;',
      // The depth lives in a map so the verifier sees one state per step of
      // the walk, not one per (step, depth) pair.
      '@open_depth[tid] = 0;',
      'if (strncmp($name, "/", 1) != 0) {',
      '\t$rel = 1;',
      '\t$d = curtask->fs->pwd.dentry;',
      '\t$vm = curtask->fs->pwd.mnt;',
      '\t$m = (struct mount *)((uint64)$vm - offsetof(struct mount, mnt));',
      '\t$steps = 0;',
      `\twhile ($steps < ${2 * MAX_DEPTH}) {`,
      `\t\tif (@open_depth[tid] >= ${MAX_DEPTH}) {`,
      '\t\t\tbreak;',
      '\t\t}',
      '\t\tif ($d == $vm->mnt_root || $d == $d->d_parent) {',
      '\t\t\tif ($m == $m->mnt_parent || $d != $vm->mnt_root) {',
      '\t\t\t\tbreak;',
      '\t\t\t}',
      '\t\t\t$d = $m->mnt_mountpoint;',
      '\t\t\t$m = $m->mnt_parent;',
      '\t\t\t$vm = (struct vfsmount *)((uint64)$m + offsetof(struct mount, mnt));',
      '\t\t} else {',
      '\t\t\t@open_path[tid, @open_depth[tid]] = str($d->d_name.name, 128);',
      '\t\t\t@open_depth[tid] = @open_depth[tid] + 1;',
      '\t\t\t$d = $d->d_parent;',
      '\t\t}',
      '\t\t$steps++;',
      '\t}',
      '}',
      '$k = @open_depth[tid];',
      'delete(@open_depth[tid]);',
    );
    for (let j = MAX_DEPTH - 1; j >= 0; j--) cols.add('', 0, '%s%s', `$k > ${j} ? "/" : ""`, `$k > ${j} ? @open_path[tid, ${j}] : ""`);
    cols.add('PATH', 0, '%s%s', '$rel ? "/" : ""', '$name');
  } else {
    cols.add('PATH', 0, '%s', 'str(@open_name[tid])');
  }
  const show = o.failed ? '$ret < 0' : '';
  const printf = cols.printf();
  body.push(...cols.pre, show ? `if (${show}) {\n${indent(printf, 1)}\n}` : printf);
  if (o.full_path) body.push(`$j = 0;\nwhile ($j < ${MAX_DEPTH} && $j < $k) {\n\tdelete(@open_path[tid, $j]);\n\t$j++;\n}`);

  const duration = o.duration as number | undefined;
  if (duration !== undefined && duration <= 0) throw new ToolUsageError('bpfkit opensnoop: -d needs a positive number of seconds');
  return render(readTemplate('opensnoop'), {
    HEADER: cols.header,
    ENTRIES: entries.join('\n\n'),
    EXITS: exits,
    EXIT_BODY: body.join('\n'),
    EXIT_CLEANUP: ['delete(@open_name[tid]);', ext && 'delete(@open_flags[tid]);', ext && 'delete(@open_mode[tid]);'].filter(Boolean).join('\n'),
    DURATION: duration !== undefined ? `interval:s:${duration}\n{\n\texit();\n}` : '',
    END_CLEAR: [
      'clear(@open_name);',
      ext && 'clear(@open_flags);\nclear(@open_mode);',
      o.timestamp && 'clear(@open_t0);',
      o.full_path && 'clear(@open_path);\nclear(@open_depth);',
    ].filter(Boolean).join('\n'),
  });
}

function probe(attach: string[], pred: string, body: string): string {
  return `${attach.join(',\n')}\n${pred ? `${pred}\n` : ''}{\n${indent(body, 1)}\n}`;
}

function indent(s: string, n: number): string {
  return s.split('\n').map((l) => (l ? '\t'.repeat(n) + l : l)).join('\n');
}
