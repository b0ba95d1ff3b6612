// The reader against the running kernel's BTF, with bpftool's raw dump of the
// same file as the reference: every type is rendered back into bpftool's
// format and the two texts must agree line for line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Btf, type BtfType } from '../../src/btf/index.js';

const VMLINUX = '/sys/kernel/btf/vmlinux';
const BPFTOOL = ['/usr/sbin/bpftool', '/usr/bin/bpftool', '/sbin/bpftool'].find((p) => existsSync(p));
const noBtf = Btf.available() ? false : `${VMLINUX} missing (kernel without CONFIG_DEBUG_INFO_BTF)`;
const noBpftool = noBtf || (BPFTOOL ? false : 'bpftool is not installed: nothing to compare against');

function bpftoolDump(file: string, base?: string): string {
  const args = ['btf', 'dump', 'file', file, ...(base ? ['--base-btf', base] : []), 'format', 'raw'];
  return execFileSync(BPFTOOL!, args, { maxBuffer: 256 << 20, encoding: 'utf8' });
}

let dumpCache: string | undefined;
function vmlinuxDump(): string {
  return (dumpCache ??= bpftoolDump(VMLINUX));
}

/** Type id -> its header line and member lines, from bpftool's raw dump. */
function parseDump(text: string): Map<number, { head: string; lines: string[] }> {
  const out = new Map<number, { head: string; lines: string[] }>();
  let cur: { head: string; lines: string[] } | undefined;
  for (const line of text.split('\n')) {
    const m = /^\[(\d+)\] /.exec(line);
    if (m) { cur = { head: line, lines: [] }; out.set(Number(m[1]), cur); }
    else if (line.startsWith('\t') && cur) cur.lines.push(line);
  }
  return out;
}

const q = (s: string) => `'${s || '(anon)'}'`;

/** One type in bpftool's `format raw` notation (bpftool's src/btf.c dump_btf_type). */
function renderRaw(btf: Btf, t: BtfType): string[] {
  const head = `[${t.id}] ${t.kind.toUpperCase()} ${q(t.name)}`;
  switch (t.kind) {
    case 'void': return [];
    case 'int': {
      const enc = t.signed ? 'SIGNED' : t.isChar ? 'CHAR' : t.isBool ? 'BOOL' : '(none)';
      return [`${head} size=${t.size} bits_offset=${t.offset} nr_bits=${t.bits} encoding=${enc}`];
    }
    case 'ptr': case 'const': case 'volatile': case 'restrict': case 'typedef': case 'type_tag':
      return [`${head} type_id=${t.type}`];
    case 'array': return [`${head} type_id=${t.elem} index_type_id=${t.index} nr_elems=${t.nelems}`];
    case 'struct': case 'union':
      return [`${head} size=${t.size} vlen=${t.members.length}`, ...t.members.map((m) =>
        `\t${q(m.name)} type_id=${m.typeId} bits_offset=${m.bitOffset}${m.bitfieldSize ? ` bitfield_size=${m.bitfieldSize}` : ''}`)];
    case 'enum': case 'enum64': {
      const suffix = t.kind === 'enum64' ? (t.signed ? 'LL' : 'ULL') : '';
      return [`${head} encoding=${t.signed ? 'SIGNED' : 'UNSIGNED'} size=${t.size} vlen=${t.values.length}`,
        ...t.values.map((v) => `\t${q(v.name)} val=${v.value}${suffix}`)];
    }
    case 'fwd': return [`${head} fwd_kind=${t.union ? 'union' : 'struct'}`];
    case 'func': return [`${head} type_id=${t.proto} linkage=${t.linkage}`];
    case 'func_proto':
      return [`${head} ret_type_id=${t.ret} vlen=${t.params.length + (t.variadic ? 1 : 0)}`,
        ...t.params.map((p) => `\t${q(p.name)} type_id=${p.typeId}`), ...(t.variadic ? [`\t'(anon)' type_id=0`] : [])];
    case 'var': return [`${head} type_id=${t.type}, linkage=${t.linkage}`];
    case 'datasec':
      return [`${head} size=${t.size} vlen=${t.vars.length}`,
        ...t.vars.map((v) => `\ttype_id=${v.type} offset=${v.offset} size=${v.size} (VAR ${q(btf.nameOf(v.type))})`)];
    case 'float': return [`${head} size=${t.size}`];
    case 'decl_tag': return [`${head} type_id=${t.type} component_idx=${t.componentIdx}`];
  }
}

test('every vmlinux type decodes to what bpftool dumps', { skip: noBpftool }, () => {
  const btf = Btf.fromFile(VMLINUX);
  const want = vmlinuxDump().split('\n').filter((l) => l !== '');
  const got: string[] = [];
  for (let id = 1; id <= btf.lastId; id++) got.push(...renderRaw(btf, btf.type(id)));
  assert.equal(btf.firstId, 1);
  for (let i = 0; i < Math.max(want.length, got.length); i++) {
    if (want[i] !== got[i]) assert.fail(`line ${i + 1} differs:\n bpftool: ${want[i]}\n bpfkit:  ${got[i]}`);
  }
});

test('task_struct members: pid, tgid, comm, a bitfield', { skip: noBpftool }, () => {
  const btf = Btf.vmlinux();
  const dump = parseDump(vmlinuxDump());
  const ts = btf.findByName('task_struct', 'struct');
  assert.ok(ts !== undefined);
  assert.match(dump.get(ts)!.head, /STRUCT 'task_struct' size=\d+/);
  const line = (name: string) => {
    const l = dump.get(ts)!.lines.find((x) => x.startsWith(`\t'${name}' `));
    assert.ok(l, `bpftool shows no member ${name}`);
    const m = /type_id=(\d+) bits_offset=(\d+)(?: bitfield_size=(\d+))?/.exec(l)!;
    return { typeId: Number(m[1]), bitOffset: Number(m[2]), bitfieldSize: Number(m[3] ?? 0) };
  };
  for (const name of ['pid', 'tgid', 'comm']) assert.deepEqual(btf.member(ts, name), { name, ...line(name) });
  assert.equal(btf.typeToString(btf.member(ts, 'comm')!.typeId), 'char[16]');
  assert.equal(btf.typeToString(btf.member(ts, 'comm')!.typeId, 'comm'), 'char comm[16]');
  assert.equal(btf.typeToString(btf.member(ts, 'pid')!.typeId), 'pid_t');
  assert.equal(btf.offsetof(ts, 'pid'), line('pid').bitOffset / 8);
  assert.equal(btf.sizeof(ts), Number(/size=(\d+)/.exec(dump.get(ts)!.head)![1]));
  assert.equal(btf.typeToString(btf.member(ts, 'parent')!.typeId), 'struct task_struct *');

  // The first bitfield anywhere in vmlinux, whatever struct it is in.
  let found = false;
  for (const [id, t] of dump) {
    const bl = t.lines.find((l) => / bitfield_size=[1-9]/.test(l));
    if (!bl) continue;
    const name = /^\t'([^']+)'/.exec(bl)![1];
    const m = /type_id=(\d+) bits_offset=(\d+) bitfield_size=(\d+)/.exec(bl)!;
    assert.deepEqual(btf.member(id, name), { name, typeId: Number(m[1]), bitOffset: Number(m[2]), bitfieldSize: Number(m[3]) });
    assert.throws(() => btf.offsetof(id, name), /bitfield/);
    found = true;
    break;
  }
  assert.ok(found, 'no bitfield member in vmlinux BTF');
});

test('members inside anonymous unions are found with their offsets added', { skip: noBtf }, () => {
  const btf = Btf.vmlinux();
  // sk_buff keeps `next`/`prev` inside an anonymous union inside an anonymous struct.
  const skb = btf.findByName('sk_buff', 'struct')!;
  const top = btf.type(skb);
  assert.ok(top.kind === 'struct');
  assert.ok(!top.members.some((m) => m.name === 'next'), 'next is no longer nested; pick another member');
  let expect: number | undefined;
  const walk = (id: number, base: number): void => {
    const t = btf.type(btf.resolve(id));
    if (t.kind !== 'struct' && t.kind !== 'union') return;
    for (const m of t.members) {
      if (m.name === 'next' && expect === undefined) expect = base + m.bitOffset;
      else if (m.name === '') walk(m.typeId, base + m.bitOffset);
    }
  };
  walk(skb, 0);
  assert.equal(btf.member(skb, 'next')?.bitOffset, expect);
  assert.equal(btf.typeToString(btf.member(skb, 'next')!.typeId), 'struct sk_buff *');
  assert.equal(btf.member(skb, 'len')?.bitfieldSize, 0);
});

test('typedefs resolve: pid_t is int', { skip: noBtf }, () => {
  const btf = Btf.vmlinux();
  const pid = btf.findByName('pid_t', 'typedef')!;
  const int = btf.resolve(pid);
  assert.deepEqual([btf.type(int).kind, btf.type(int).name], ['int', 'int']);
  assert.equal(btf.sizeof(pid), 4);
  assert.equal(btf.typeToString(pid), 'pid_t');
  assert.equal(btf.findByName('int', 'int'), int);
});

test('vfs_read prototype', { skip: noBtf }, () => {
  const btf = Btf.vmlinux();
  const p = btf.funcProto('vfs_read');
  assert.ok(p);
  assert.deepEqual(p.params.map((x) => btf.typeToString(x.typeId, x.name)),
    ['struct file *file', 'char *buf', 'size_t count', 'loff_t *pos']);
  assert.equal(btf.typeToString(p.ret), 'ssize_t');
  assert.equal(btf.typeToString(btf.findByName('vfs_read', 'func')!), 'ssize_t vfs_read(struct file *file, char *buf, size_t count, loff_t *pos)');
  assert.equal(btf.funcProto('no_such_function_here'), undefined);
});

test('enum values agree with bpftool', { skip: noBpftool }, () => {
  const btf = Btf.vmlinux();
  const dump = parseDump(vmlinuxDump());
  const id = btf.findByName('bpf_cmd', 'enum')!;
  const want = dump.get(id)!.lines.map((l) => {
    const m = /^\t'(\w+)' val=(-?\d+)/.exec(l)!;
    return { name: m[1], value: BigInt(m[2]) };
  });
  assert.deepEqual(btf.enumValues(id), want);
  assert.deepEqual(btf.enumValues(id).slice(0, 2), [{ name: 'BPF_MAP_CREATE', value: 0n }, { name: 'BPF_MAP_LOOKUP_ELEM', value: 1n }]);
  // A signed enum with a negative value.
  const rpm = btf.findByName('rpm_status', 'enum');
  if (rpm !== undefined) assert.equal(btf.enumValues(rpm).find((v) => v.name === 'RPM_INVALID')?.value, -1n);
});

test('funcs() lists every FUNC', { skip: noBpftool }, () => {
  const btf = Btf.vmlinux();
  const want = [...vmlinuxDump().matchAll(/^\[\d+\] FUNC '([^']+)'/gm)].map((m) => m[1]);
  assert.deepEqual([...btf.funcs()], want);
});

test('vmlinux() is one shared instance', { skip: noBtf }, () => {
  assert.equal(Btf.vmlinux(), Btf.vmlinux());
  assert.equal(Btf.module('vmlinux'), Btf.vmlinux());
  assert.throws(() => Btf.module('no_such_module_xyz'), /no BTF for module 'no_such_module_xyz'/);
  assert.throws(() => Btf.module('../etc'), /invalid module name/);
});

const modName = Btf.moduleNames()[0];
test('module BTF is split BTF on top of vmlinux', { skip: noBpftool || (modName ? false : 'no module in /sys/kernel/btf carries BTF') }, () => {
  const mod = Btf.module(modName);
  const vm = Btf.vmlinux();
  assert.equal(mod.base, vm);
  assert.equal(mod.firstId, vm.lastId + 1);
  const dump = bpftoolDump(`/sys/kernel/btf/${modName}`, VMLINUX).split('\n').filter((l) => l !== '');
  const got: string[] = [];
  for (let id = mod.firstId; id <= mod.lastId; id++) got.push(...renderRaw(mod, mod.type(id)));
  assert.deepEqual(got, dump);
  // Lookups see both the module's types and the kernel's.
  assert.equal(mod.findByName('task_struct', 'struct'), vm.findByName('task_struct', 'struct'));
  for (const f of mod.funcs()) assert.ok(mod.funcProto(f));
});

test('split BTF built on vmlinux agrees with bpftool --base-btf', { skip: noBpftool }, () => {
  // No module may carry BTF on this machine, so one is made: a struct pointing
  // at task_struct, a function taking it, and a name reused from vmlinux's strings.
  const vm = Btf.vmlinux();
  const file = readFileSync(VMLINUX);
  const baseStrStart = file.readUInt32LE(4) + file.readUInt32LE(16);
  const baseStrLen = file.readUInt32LE(20);
  const pidName = file.subarray(baseStrStart, baseStrStart + baseStrLen).indexOf('\0pid_t\0') + 1;
  assert.ok(pidName > 0);
  const task = vm.findByName('task_struct', 'struct')!;
  const int = vm.findByName('int', 'int')!;
  // Split string sections start with their own empty string, after the base's.
  const strs = ['', 'bpfkit_mod_state', 'owner', 'count', 'bpfkit_mod_init', 's'];
  const strOff = (x: string) => baseStrLen + strs.slice(0, strs.indexOf(x)).reduce((n, y) => n + y.length + 1, 0);
  const first = vm.lastId + 1;
  const info = (kind: number, vlen = 0) => ((kind << 24) | vlen) >>> 0;
  const words = [
    strOff('bpfkit_mod_state'), info(4, 2), 16, strOff('owner'), first + 1, 0, strOff('count'), int, 64, // struct bpfkit_mod_state
    0, info(2), task, // struct task_struct *
    0, info(13, 1), int, strOff('s'), first, // int (struct bpfkit_mod_state s)
    strOff('bpfkit_mod_init'), info(12, 1), first + 2, // global func
    pidName, info(8), int, // typedef int pid_t, named from vmlinux's strings
  ];
  const types = Buffer.alloc(words.length * 4);
  words.forEach((w, i) => types.writeUInt32LE(w, i * 4));
  const strSec = Buffer.from(strs.map((x) => `${x}\0`).join(''), 'latin1');
  const hdr = Buffer.alloc(24);
  hdr.writeUInt16LE(0xeb9f, 0);
  hdr.writeUInt8(1, 2);
  hdr.writeUInt32LE(24, 4);
  hdr.writeUInt32LE(0, 8);
  hdr.writeUInt32LE(types.length, 12);
  hdr.writeUInt32LE(types.length, 16);
  hdr.writeUInt32LE(strSec.length, 20);
  const dir = mkdtempSync(join(tmpdir(), 'bpfkit-btf-'));
  try {
    const path = join(dir, 'mod.btf');
    writeFileSync(path, Buffer.concat([hdr, types, strSec]));
    const mod = Btf.fromFile(path, vm);
    const got: string[] = [];
    for (let id = mod.firstId; id <= mod.lastId; id++) got.push(...renderRaw(mod, mod.type(id)));
    assert.deepEqual(got, bpftoolDump(path, VMLINUX).split('\n').filter((l) => l !== ''));
    assert.equal(mod.findByName('bpfkit_mod_state', 'struct'), first);
    assert.deepEqual(mod.findAllByName('pid_t', 'typedef'), [vm.findByName('pid_t', 'typedef'), first + 4]);
    assert.equal(mod.typeToString(first + 3), 'int bpfkit_mod_init(struct bpfkit_mod_state s)');
    assert.equal(mod.typeToString(mod.member(first, 'owner')!.typeId), 'struct task_struct *');
    assert.deepEqual([...mod.funcs()], ['bpfkit_mod_init']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('with libc loaded, vmlinux BTF is mapped rather than read, and parses the same', { skip: noBtf }, async (t) => {
  const read = Btf.fromBuffer(readFileSync(VMLINUX));
  const sys = await import('../../src/bpf/sys.js');
  sys.geteuid(); // binds libc, as any run that loads programs has done by the time it needs BTF
  assert.ok(sys.libcLoaded());
  const mapped = Btf.fromFile(VMLINUX);
  assert.equal(mapped.lastId, read.lastId);
  const ts = mapped.findByName('task_struct', 'struct')!;
  assert.equal(ts, read.findByName('task_struct', 'struct'));
  assert.deepEqual(mapped.type(ts), read.type(ts));
  if (!readFileSync('/proc/self/maps', 'utf8').includes(VMLINUX)) {
    // Older kernels refuse the mapping; the reader then reads, as above.
    const fd = openSync(VMLINUX, 'r');
    try {
      assert.throws(() => sys.mmap(fd, 4096, sys.PROT_READ, 0, sys.MAP_PRIVATE), 'mmap works yet the reader did not map');
    } finally {
      closeSync(fd);
    }
    t.skip('this kernel does not let /sys/kernel/btf/vmlinux be mapped');
  }
});
