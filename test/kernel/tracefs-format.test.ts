// parseFormat and formatFieldForListing on format files captured from a 6.18
// kernel: pure text in, no tracefs needed, so these run on any machine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatFieldForListing, parseFormat, TracefsError } from '../../src/probes/tracefs.js';

const COMMON = `	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;
`;

const EXEC = `name: sched_process_exec
ID: 365
format:
${COMMON}
	field:__data_loc char[] filename;	offset:8;	size:4;	signed:0;
	field:pid_t pid;	offset:12;	size:4;	signed:1;
	field:pid_t old_pid;	offset:16;	size:4;	signed:1;

print fmt: "filename=%s pid=%d old_pid=%d", __get_str(filename), REC->pid, REC->old_pid
`;

const SWITCH = `name: sched_switch
ID: 372
format:
${COMMON}
	field:char prev_comm[16];	offset:8;	size:16;	signed:0;
	field:pid_t prev_pid;	offset:24;	size:4;	signed:1;
	field:int prev_prio;	offset:28;	size:4;	signed:1;
	field:long prev_state;	offset:32;	size:8;	signed:1;
	field:char next_comm[16];	offset:40;	size:16;	signed:0;
	field:pid_t next_pid;	offset:56;	size:4;	signed:1;
	field:int next_prio;	offset:60;	size:4;	signed:1;

print fmt: "prev_comm=%s prev_pid=%d", REC->prev_comm, REC->prev_pid
`;

const EXECVE = `name: sys_enter_execve
ID: 862
format:
${COMMON}
	field:int __syscall_nr;	offset:8;	size:4;	signed:1;
	field:const char * filename;	offset:16;	size:8;	signed:0;
	field:const char *const * argv;	offset:24;	size:8;	signed:0;
	field:const char *const * envp;	offset:32;	size:8;	signed:0;

print fmt: "filename: 0x%08lx, argv: 0x%08lx, envp: 0x%08lx", ((unsigned long)(REC->filename)), ((unsigned long)(REC->argv)), ((unsigned long)(REC->envp))
`;

// Shapes seen elsewhere: flexible arrays, __rel_loc, two dimensions, a field
// without signed: (older kernels), a print fmt running over several lines.
const ODD = `name: odd
ID: 7
format:
${COMMON}
	field:unsigned long args[];	offset:24;	size:0;	signed:0;
	field:__rel_loc u8[] blob;	offset:24;	size:4;	signed:0;
	field:u32 grid[2][3];	offset:28;	size:24;	signed:0;
	field:struct robust_list_head * * head_ptr;	offset:56;	size:8;
	field:__data_loc u64[] addrs;	offset:64;	size:4;	signed:0;

print fmt: "a=%s
b=%d", "x
y", REC->grid
`;

function f(name: string, type: string, offset: number, size: number, signed: boolean, extra: Partial<{ dataLoc: boolean; relLoc: boolean; arrayLen: number | null; common: boolean }> = {}) {
  return { name, type, offset, size, signed, dataLoc: false, relLoc: false, arrayLen: null, common: false, ...extra };
}

const commonFields = [
  f('common_type', 'unsigned short', 0, 2, false, { common: true }),
  f('common_flags', 'unsigned char', 2, 1, false, { common: true }),
  f('common_preempt_count', 'unsigned char', 3, 1, false, { common: true }),
  f('common_pid', 'int', 4, 4, true, { common: true }),
];

test('__data_loc field', () => {
  const fmt = parseFormat(EXEC);
  assert.equal(fmt.id, 365);
  assert.deepEqual(fmt.fields, [
    ...commonFields,
    f('filename', 'char[]', 8, 4, false, { dataLoc: true, arrayLen: 0 }),
    f('pid', 'pid_t', 12, 4, true),
    f('old_pid', 'pid_t', 16, 4, true),
  ]);
  assert.equal(fmt.printFmt, '"filename=%s pid=%d old_pid=%d", __get_str(filename), REC->pid, REC->old_pid');
});

test('fixed arrays take the dimension onto the type', () => {
  const fmt = parseFormat(SWITCH);
  assert.deepEqual(fmt.fields.filter((x) => !x.common).slice(0, 4), [
    f('prev_comm', 'char[16]', 8, 16, false, { arrayLen: 16 }),
    f('prev_pid', 'pid_t', 24, 4, true),
    f('prev_prio', 'int', 28, 4, true),
    f('prev_state', 'long', 32, 8, true),
  ]);
});

test('pointer types keep their spelling', () => {
  const fmt = parseFormat(EXECVE);
  assert.deepEqual(fmt.fields.filter((x) => !x.common).map((x) => [x.type, x.name]), [
    ['int', '__syscall_nr'], ['const char *', 'filename'], ['const char *const *', 'argv'], ['const char *const *', 'envp'],
  ]);
});

test('odd shapes', () => {
  const fmt = parseFormat(ODD);
  assert.deepEqual(fmt.fields.filter((x) => !x.common), [
    f('args', 'unsigned long[]', 24, 0, false, { arrayLen: 0 }),
    f('blob', 'u8[]', 24, 4, false, { relLoc: true, arrayLen: 0 }),
    f('grid', 'u32[2][3]', 28, 24, false, { arrayLen: 6 }),
    f('head_ptr', 'struct robust_list_head * *', 56, 8, false),
    f('addrs', 'u64[]', 64, 4, false, { dataLoc: true, arrayLen: 0 }),
  ]);
  assert.equal(fmt.printFmt, '"a=%s\nb=%d", "x\ny", REC->grid');
});

test('listing lines reproduce the declarations', () => {
  for (const text of [EXEC, SWITCH, EXECVE, ODD]) {
    const decls = [...text.matchAll(/^\tfield:(.*?);/gm)].map((m) => `    ${m[1]}`);
    assert.deepEqual(parseFormat(text).fields.map(formatFieldForListing), decls);
  }
  assert.deepEqual(parseFormat(SWITCH).fields.filter((x) => !x.common).map(formatFieldForListing).slice(0, 2),
    ['    char prev_comm[16]', '    pid_t prev_pid']);
  assert.equal(formatFieldForListing(parseFormat(EXEC).fields[4]), '    __data_loc char[] filename');
});

test('malformed text is refused', () => {
  assert.throws(() => parseFormat('name: x\nformat:\n'), TracefsError);
  assert.throws(() => parseFormat('ID: 3\n'), /no format: section/);
  assert.throws(() => parseFormat('ID: 3\nformat:\n\tfield:;\toffset:0;\tsize:1;\tsigned:0;\n'), /cannot parse field/);
});
