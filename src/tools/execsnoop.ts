// execsnoop's options (BCC's tools/execsnoop.py) and how they shape the program.
import { predicate, readTemplate, render, resolveUid, Columns, strLit, ToolUsageError, type Parsed } from './options.js';
import type { Tool } from './tool.js';

/** BCC's ARGSIZE: each argument is read up to this many bytes. */
const ARGSIZE = 128;
/** printf takes at most 128 arguments; two per exec argument when quoting. */
const MAX_ARGS_LIMIT = 60;

export const execsnoop: Tool = {
  name: 'execsnoop',
  description: 'Trace exec() syscalls',
  options: [
    { key: 'time', short: '-T', long: '--time', help: 'include time column on output (HH:MM:SS)' },
    { key: 'timestamp', short: '-t', long: '--timestamp', help: 'include timestamp on output' },
    { key: 'fails', short: '-x', long: '--fails', help: 'include failed exec()s' },
    { key: 'uid', short: '-u', long: '--uid', arg: 'USER', help: 'trace this UID only' },
    { key: 'quote', short: '-q', long: '--quote', help: 'Add quotemarks (") around arguments.' },
    { key: 'name', short: '-n', long: '--name', arg: 'NAME', help: 'only print commands whose name contains NAME (matched in the kernel, not a regex)' },
    { key: 'line', short: '-l', long: '--line', arg: 'LINE', help: 'only print commands where an argument contains LINE (matched in the kernel, not a regex)' },
    { key: 'print_uid', short: '-U', long: '--print-uid', help: 'print UID column' },
    { key: 'max_args', long: '--max-args', arg: 'MAX_ARGS', type: 'int', help: 'maximum number of arguments parsed and displayed, defaults to 20' },
    { key: 'ppid', short: '-P', long: '--ppid', arg: 'PPID', type: 'int', help: 'trace this parent pid only' },
  ],
  examples: [
    ['', 'trace all exec() syscalls'],
    ['-x', 'include failed exec()s'],
    ['-T', 'include time (HH:MM:SS)'],
    ['-P 181', 'only trace new processes whose parent PID is 181'],
    ['-U', 'include UID'],
    ['-u 1000', 'only trace UID 1000'],
    ['-u user', 'get user UID and trace only them'],
    ['-t', 'include timestamps'],
    ['-q', 'add "quotemarks" around arguments'],
    ['-n main', 'only print command lines containing "main"'],
    ['-l tpkg', 'only print command where arguments contains "tpkg"'],
  ],
  program: execsnoopProgram,
};

function execsnoopProgram(o: Parsed): string {
  const max = (o.max_args as number | undefined) ?? 20;
  if (max < 1 || max > MAX_ARGS_LIMIT) throw new ToolUsageError(`bpfkit execsnoop: --max-args must be between 1 and ${MAX_ARGS_LIMIT}`);
  const uid = o.uid !== undefined ? resolveUid(o.uid as string) : undefined;
  const quote = !!o.quote;

  const cols = new Columns();
  if (o.time) cols.add('TIME', 9, '%s ', 'strftime("%H:%M:%S", nsecs)');
  if (o.timestamp) cols.seconds('TIME(s)', 8, '$ts', 'elapsed', 3);
  if (o.print_uid) cols.add('UID', 6, '%-6d', 'uid');
  const header = `${cols.header}${'PCOMM'.padEnd(16)} ${'PID'.padEnd(7)} ${'PPID'.padEnd(7)} RET ARGS`;

  // The argument list: slot 0 is the file name, slots 1..max-1 are argv, slot max holds "..." when argv goes on.
  let argFmt = quote ? '\\"%s' : '%s';
  const argArgs = ['@exec_args[tid, 0]'];
  for (let i = 1; i <= max; i++) {
    argFmt += '%s%s';
    argArgs.push(`$n > ${i} ? ${strLit(quote ? '" "' : ' ')} : ""`, `$n > ${i} ? @exec_args[tid, ${i}] : ""`);
  }
  if (quote) argFmt += '\\"';
  const line = (ppid: 'num' | 'unknown') => {
    const f = [...cols.fmt, `%-16s %-7d ${ppid === 'num' ? '%-7d' : '%-7s'} %3d `, argFmt].join('');
    const a = [...cols.args, 'comm', 'pid', ppid === 'num' ? '$ppid' : '"?"', '$ret', ...argArgs];
    return `printf("${f}\\n",\n\t${a.join(',\n\t')});`;
  };
  const print = `if ($ppid > 0) {\n\t${line('num').replace(/\n/g, '\n\t')}\n} else {\n\t${line('unknown').replace(/\n/g, '\n\t')}\n}`;

  const lineNeedle = o.line !== undefined ? strLit(o.line as string) : undefined;
  return render(readTemplate('execsnoop'), {
    ARGSIZE,
    HEADER: header,
    MAX_ARGS: max,
    ENTRY_FILTER: predicate([uid !== undefined && `uid == ${uid}`, o.ppid !== undefined && `curtask->real_parent->tgid == ${o.ppid}`]),
    LINE_FIRST: lineNeedle ? `$match = strcontains($s, ${lineNeedle});` : '',
    LINE_NEXT: lineNeedle ? `if (strcontains($s, ${lineNeedle})) {\n\t$match = 1;\n}` : '',
    LINE_KEEP: lineNeedle
      ? `if ($match) {\n\t@exec_argc[tid] = $i;\n} else {\n\t$j = 0;\n\twhile ($j <= ${max} && $j < $i) {\n\t\tdelete(@exec_args[tid, $j]);\n\t\t$j++;\n\t}\n}`
      : '@exec_argc[tid] = $i;',
    SHOW: [o.fails ? '' : '$ret == 0', o.name !== undefined ? `strcontains(comm, ${strLit(o.name as string)})` : ''].filter(Boolean).join(' && ') || '1',
    PRINT: [...cols.pre, print].join('\n'),
  });
}
