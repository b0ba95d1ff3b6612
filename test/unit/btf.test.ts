// The BTF reader against blobs built here byte by byte from the layout in the
// kernel's Documentation/bpf/btf.rst, so every kind and every declarator shape
// is covered whatever the running kernel happens to contain.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Btf, BtfError, BTF_KIND } from '../../src/btf/index.js';

/** Writes a BTF file: header, type section, string section. */
class Builder {
  private readonly words: number[] = [];
  private readonly strs: Buffer[] = [];
  private strLen: number;
  private readonly strIndex = new Map<string, number>();
  nextId: number;

  constructor(private readonly stringBase = 0, firstId = 1) {
    this.nextId = firstId;
    this.strLen = 0;
    if (stringBase === 0) this.raw('');
  }

  /** Appends a string without dedup (to place suffix-shared or duplicate copies). */
  raw(s: string): number {
    const off = this.stringBase + this.strLen;
    const b = Buffer.from(`${s}\0`, 'latin1');
    this.strs.push(b);
    this.strLen += b.length;
    return off;
  }

  str(s: string): number {
    if (s === '') return 0;
    let off = this.strIndex.get(s);
    if (off === undefined) { off = this.raw(s); this.strIndex.set(s, off); }
    return off;
  }

  type(name: string | number, kind: number, vlen: number, kflag: boolean, sizeOrType: number, extra: number[] = []): number {
    const nameOff = typeof name === 'number' ? name : this.str(name);
    this.words.push(nameOff, ((kflag ? 1 : 0) << 31 | kind << 24 | vlen) >>> 0, sizeOrType >>> 0, ...extra.map((x) => x >>> 0));
    return this.nextId++;
  }

  int(name: string, size: number, bits: number, encoding = 0, offset = 0): number {
    return this.type(name, BTF_KIND.int, 0, false, size, [encoding << 24 | offset << 16 | bits]);
  }

  build(): Buffer {
    const hdr = Buffer.alloc(24);
    const types = Buffer.alloc(this.words.length * 4);
    this.words.forEach((w, i) => types.writeUInt32LE(w, i * 4));
    const strs = Buffer.concat(this.strs);
    hdr.writeUInt16LE(0xeb9f, 0);
    hdr.writeUInt8(1, 2);
    hdr.writeUInt32LE(24, 4);
    hdr.writeUInt32LE(0, 8);
    hdr.writeUInt32LE(types.length, 12);
    hdr.writeUInt32LE(types.length, 16);
    hdr.writeUInt32LE(strs.length, 20);
    return Buffer.concat([hdr, types, strs]);
  }
}

const K = BTF_KIND;

function build() {
  const b = new Builder();
  const ids: Record<string, number> = {};
  ids.int = b.int('int', 4, 32, 1);
  ids.uint = b.int('unsigned int', 4, 32);
  ids.char = b.int('char', 1, 8, 1);
  ids.long = b.int('long', 8, 64, 1);
  ids.bool = b.int('_Bool', 1, 8, 4);
  ids.pid_t = b.type('pid_t', K.typedef, 0, false, ids.int);
  ids.cchar = b.type('', K.const, 0, false, ids.char);
  ids.pcchar = b.type('', K.ptr, 0, false, ids.cchar);
  ids.char16 = b.type('', K.array, 0, false, 0, [ids.char, ids.int, 16]);
  ids.pchar = b.type('', K.ptr, 0, false, ids.char);
  ids.ppchar = b.type('', K.ptr, 0, false, ids.pchar);
  ids.cpchar = b.type('', K.const, 0, false, ids.pchar); // char *const
  const cpcchar = b.type('', K.const, 0, false, ids.pcchar);
  ids.pcpcchar = b.type('', K.ptr, 0, false, cpcchar);
  ids.vint = b.type('', K.volatile, 0, false, ids.int);
  ids.rpchar = b.type('', K.restrict, 0, false, ids.pchar);
  ids.userTag = b.type('user', K.type_tag, 0, false, ids.char);
  ids.puser = b.type('', K.ptr, 0, false, ids.userTag); // char __user *
  ids.float = b.type('double', K.float, 0, false, 8);
  // struct task { pid_t pid; pid_t tgid; char comm[16]; unsigned int a:3, b:5;
  //               union { long x; struct { int y; int z; }; }; struct task *parent; int (*fn)(void *, ...); }
  ids.anonInner = b.type('', K.struct, 2, false, 8, [b.str('y'), ids.int, 0, b.str('z'), ids.int, 32]);
  ids.anonUnion = b.type('', K.union, 2, false, 8, [b.str('x'), ids.long, 0, 0, ids.anonInner, 0]);
  ids.void_p = b.type('', K.ptr, 0, false, 0);
  ids.proto_fn = b.type('', K.func_proto, 2, false, ids.int, [0, ids.void_p, 0, 0]);
  ids.pfn = b.type('', K.ptr, 0, false, ids.proto_fn);
  // The struct points at itself: its pointer is written first, aimed at the next id.
  ids.ptask = b.type('', K.ptr, 0, false, b.nextId + 1);
  ids.task = b.type('task', K.struct, 8, true, 56, [
    b.str('pid'), ids.pid_t, 0,
    b.str('tgid'), ids.pid_t, 32,
    b.str('comm'), ids.char16, 64,
    b.str('a'), ids.uint, (3 << 24) | 192,
    b.str('b'), ids.uint, (5 << 24) | 195,
    0, ids.anonUnion, 256,
    b.str('parent'), ids.ptask, 384,
    b.str('fn'), ids.pfn, 320,
  ]);
  // Old-style bitfield: no kind_flag, the width lives in a dedicated int type.
  ids.int3 = b.int('int', 4, 3, 1, 2);
  ids.old = b.type('old', K.struct, 2, false, 4, [b.str('f'), ids.int3, 8, b.str('g'), ids.int, 0]);
  ids.enum = b.type('color', K.enum, 3, true, 4, [b.str('RED'), 0, b.str('GREEN'), 1, b.str('NEG'), -5]);
  ids.uenum = b.type('big', K.enum, 1, false, 4, [b.str('TOP'), 0xfffffffe]);
  ids.enum64 = b.type('wide', K.enum64, 2, false, 8, [b.str('W0'), 1, 0, b.str('W1'), 0xdeadbeef, 0xcafe]);
  ids.senum64 = b.type('swide', K.enum64, 1, true, 8, [b.str('M1'), 0xffffffff, 0xffffffff]);
  ids.fwd = b.type('file', K.fwd, 0, false, 0);
  ids.fwdu = b.type('uu', K.fwd, 0, true, 0);
  ids.pfile = b.type('', K.ptr, 0, false, ids.fwd);
  ids.proto = b.type('', K.func_proto, 3, false, ids.long, [b.str('f'), ids.pfile, b.str('buf'), ids.pchar, b.str('n'), ids.uint]);
  ids.func = b.type('vfs_read', K.func, 1, false, ids.proto);
  ids.sfunc = b.type('helper', K.func, 0, false, ids.proto);
  ids.vproto = b.type('', K.func_proto, 2, false, ids.int, [b.str('fmt'), ids.pcchar, 0, 0]);
  ids.printk = b.type('printk', K.func, 1, false, ids.vproto);
  ids.noargs = b.type('', K.func_proto, 0, false, 0);
  ids.nfunc = b.type('noargs', K.func, 1, false, ids.noargs);
  ids.var = b.type('jiffies', K.var, 0, false, ids.long, [1]);
  ids.datasec = b.type('.data..percpu', K.datasec, 1, false, 8, [ids.var, 0, 8]);
  ids.decl = b.type('kfunc', K.decl_tag, 0, false, ids.func, [-1]);
  ids.parr = b.type('', K.ptr, 0, false, ids.char16); // char (*)[16]
  ids.arrp = b.type('', K.array, 0, false, 0, [ids.pchar, ids.int, 4]); // char *[4]
  ids.arr2 = b.type('', K.array, 0, false, 0, [ids.char16, ids.int, 2]); // char[2][16]
  ids.tdtask = b.type('task_t', K.typedef, 0, false, ids.task);
  ids.ctask = b.type('', K.const, 0, false, ids.tdtask);
  ids.anonEnum = b.type('', K.enum, 1, false, 4, [b.str('ANON_A'), 7]);
  return { buf: b.build(), ids, str: (x: string) => b.str(x) };
}

function load() {
  const { buf, ids } = build();
  return { btf: Btf.fromBuffer(buf, undefined, 'sample'), ids };
}

test('header is checked', () => {
  assert.throws(() => Btf.fromBuffer(Buffer.alloc(10)), BtfError);
  const bad = Buffer.alloc(24);
  bad.writeUInt16LE(0x1234, 0);
  assert.throws(() => Btf.fromBuffer(bad), /not BTF/);
  const be = Buffer.alloc(24);
  be.writeUInt16BE(0xeb9f, 0);
  assert.throws(() => Btf.fromBuffer(be), /big-endian/);
});

test('a type section that is not word-aligned in memory still parses', () => {
  const { buf, ids } = build();
  const shifted = Buffer.alloc(buf.length + 1);
  buf.copy(shifted, 1);
  const btf = Btf.fromBuffer(shifted.subarray(1));
  assert.equal(btf.findByName('task', 'struct'), ids.task);
  assert.equal(btf.typeCount, Math.max(...Object.values(ids)));
});

test('every kind decodes', () => {
  const { btf, ids } = load();
  assert.deepEqual(btf.type(0), { id: 0, kind: 'void', name: 'void' });
  assert.deepEqual(btf.type(ids.int), { id: ids.int, kind: 'int', name: 'int', size: 4, encoding: 1, signed: true, isChar: false, isBool: false, offset: 0, bits: 32 });
  const bool = btf.type(ids.bool);
  assert.ok(bool.kind === 'int' && bool.isBool && !bool.signed);
  assert.deepEqual(btf.type(ids.char16), { id: ids.char16, kind: 'array', name: '', elem: ids.char, index: ids.int, nelems: 16 });
  assert.deepEqual(btf.type(ids.pchar), { id: ids.pchar, kind: 'ptr', name: '', type: ids.char });
  assert.deepEqual(btf.type(ids.pid_t), { id: ids.pid_t, kind: 'typedef', name: 'pid_t', type: ids.int });
  assert.equal(btf.type(ids.vint).kind, 'volatile');
  assert.equal(btf.type(ids.rpchar).kind, 'restrict');
  assert.deepEqual(btf.type(ids.userTag), { id: ids.userTag, kind: 'type_tag', name: 'user', type: ids.char });
  assert.deepEqual(btf.type(ids.float), { id: ids.float, kind: 'float', name: 'double', size: 8 });
  assert.deepEqual(btf.type(ids.fwd), { id: ids.fwd, kind: 'fwd', name: 'file', union: false });
  assert.deepEqual(btf.type(ids.fwdu), { id: ids.fwdu, kind: 'fwd', name: 'uu', union: true });
  assert.deepEqual(btf.type(ids.func), { id: ids.func, kind: 'func', name: 'vfs_read', proto: ids.proto, linkage: 'global' });
  assert.equal((btf.type(ids.sfunc) as { linkage: string }).linkage, 'static');
  assert.deepEqual(btf.type(ids.vproto), { id: ids.vproto, kind: 'func_proto', name: '', ret: ids.int, params: [{ name: 'fmt', typeId: ids.pcchar }], variadic: true });
  assert.deepEqual(btf.type(ids.var), { id: ids.var, kind: 'var', name: 'jiffies', type: ids.long, linkage: 'global' });
  assert.deepEqual(btf.type(ids.datasec), { id: ids.datasec, kind: 'datasec', name: '.data..percpu', size: 8, vars: [{ type: ids.var, offset: 0, size: 8 }] });
  assert.deepEqual(btf.type(ids.decl), { id: ids.decl, kind: 'decl_tag', name: 'kfunc', type: ids.func, componentIdx: -1 });
  const s = btf.type(ids.task);
  assert.ok(s.kind === 'struct');
  assert.equal(s.size, 56);
  assert.deepEqual(s.members.map((m) => m.name), ['pid', 'tgid', 'comm', 'a', 'b', '', 'parent', 'fn']);
  assert.equal(btf.type(ids.anonUnion).kind, 'union');
  // Decoded once: the same object comes back.
  assert.equal(btf.type(ids.task), s);
  assert.throws(() => btf.type(btf.lastId + 1), /no type with id/);
});

test('enum values: signed, unsigned, 64-bit', () => {
  const { btf, ids } = load();
  assert.deepEqual(btf.enumValues(ids.enum), [{ name: 'RED', value: 0n }, { name: 'GREEN', value: 1n }, { name: 'NEG', value: -5n }]);
  assert.deepEqual(btf.enumValues(ids.uenum), [{ name: 'TOP', value: 0xfffffffen }]);
  assert.deepEqual(btf.enumValues(ids.enum64), [{ name: 'W0', value: 1n }, { name: 'W1', value: 0xcafedeadbeefn }]);
  assert.deepEqual(btf.enumValues(ids.senum64), [{ name: 'M1', value: -1n }]);
  assert.throws(() => btf.enumValues(ids.int), /not an enum/);
});

test('members: offsets, bitfields, anonymous members, typedef to a struct', () => {
  const { btf, ids } = load();
  assert.deepEqual(btf.member(ids.task, 'tgid'), { name: 'tgid', typeId: ids.pid_t, bitOffset: 32, bitfieldSize: 0 });
  assert.deepEqual(btf.member(ids.task, 'b'), { name: 'b', typeId: ids.uint, bitOffset: 195, bitfieldSize: 5 });
  // x is in the anonymous union at bit 256; z in the struct inside it, 32 further.
  assert.deepEqual(btf.member(ids.task, 'x'), { name: 'x', typeId: ids.long, bitOffset: 256, bitfieldSize: 0 });
  assert.deepEqual(btf.member(ids.task, 'z'), { name: 'z', typeId: ids.int, bitOffset: 288, bitfieldSize: 0 });
  assert.equal(btf.member(ids.task, 'nope'), undefined);
  assert.equal(btf.member(ids.ctask, 'comm')?.bitOffset, 64);
  assert.equal(btf.offsetof(ids.task, 'z'), 36);
  assert.throws(() => btf.offsetof(ids.task, 'a'), /bitfield/);
  assert.throws(() => btf.offsetof(ids.task, 'nope'), /no member named 'nope'/);
  assert.throws(() => btf.member(ids.int, 'x'), /not a struct or union/);
  // Without kind_flag, the int type carries width and offset.
  assert.deepEqual(btf.member(ids.old, 'f'), { name: 'f', typeId: ids.int3, bitOffset: 10, bitfieldSize: 3 });
  assert.deepEqual(btf.member(ids.old, 'g'), { name: 'g', typeId: ids.int, bitOffset: 0, bitfieldSize: 0 });
});

test('resolve and sizeof', () => {
  const { btf, ids } = load();
  assert.equal(btf.resolve(ids.pid_t), ids.int);
  assert.equal(btf.resolve(ids.ctask), ids.task);
  assert.equal(btf.resolve(ids.userTag), ids.char);
  assert.equal(btf.resolve(ids.pchar), ids.pchar);
  assert.equal(btf.sizeof(ids.pid_t), 4);
  assert.equal(btf.sizeof(ids.char16), 16);
  assert.equal(btf.sizeof(ids.arr2), 32);
  assert.equal(btf.sizeof(ids.pcchar), 8);
  assert.equal(btf.sizeof(ids.ctask), 56);
  assert.equal(btf.sizeof(ids.enum64), 8);
  assert.equal(btf.sizeof(ids.var), 8);
  assert.throws(() => btf.sizeof(ids.fwd), /incomplete type 'struct file'/);
  assert.throws(() => btf.sizeof(0), /incomplete type 'void'/);
});

test('C text for declarators', () => {
  const { btf, ids } = load();
  const cases: [number, string | undefined, string][] = [
    [ids.int, undefined, 'int'],
    [ids.pid_t, 'pid', 'pid_t pid'],
    [ids.pcchar, undefined, 'const char *'],
    [ids.pcchar, 'filename', 'const char *filename'],
    [ids.char16, undefined, 'char[16]'],
    [ids.char16, 'comm', 'char comm[16]'],
    [ids.ppchar, 'argv', 'char **argv'],
    [ids.cpchar, undefined, 'char *const'],
    [ids.cpchar, 'p', 'char *const p'],
    [ids.pcpcchar, 'envp', 'const char *const *envp'],
    [ids.vint, undefined, 'volatile int'],
    [ids.rpchar, 's', 'char *restrict s'],
    [ids.puser, 'buf', 'char *buf'],
    [ids.ptask, undefined, 'struct task *'],
    [ids.ctask, undefined, 'const task_t'],
    [ids.pfile, undefined, 'struct file *'],
    [ids.fwdu, undefined, 'union uu'],
    [ids.anonUnion, undefined, 'union {...}'],
    [ids.anonEnum, undefined, 'enum {...}'],
    [ids.enum, undefined, 'enum color'],
    [ids.enum64, undefined, 'enum wide'],
    [ids.void_p, undefined, 'void *'],
    [ids.pfn, undefined, 'int (*)(void *, ...)'],
    [ids.pfn, 'fn', 'int (*fn)(void *, ...)'],
    [ids.parr, undefined, 'char (*)[16]'],
    [ids.parr, 'p', 'char (*p)[16]'],
    [ids.arrp, 'v', 'char *v[4]'],
    [ids.arr2, undefined, 'char[2][16]'],
    [ids.func, undefined, 'long vfs_read(struct file *f, char *buf, unsigned int n)'],
    [ids.printk, undefined, 'int printk(const char *fmt, ...)'],
    [ids.nfunc, undefined, 'void noargs(void)'],
    [ids.var, undefined, 'long jiffies'],
  ];
  for (const [id, name, want] of cases) assert.equal(btf.typeToString(id, name), want, `type ${id} ${name ?? ''}`);
});

test('funcProto and funcs', () => {
  const { btf, ids } = load();
  assert.deepEqual(btf.funcProto('vfs_read'), {
    params: [{ name: 'f', typeId: ids.pfile }, { name: 'buf', typeId: ids.pchar }, { name: 'n', typeId: ids.uint }],
    ret: ids.long, variadic: false,
  });
  assert.equal(btf.funcProto('printk')?.variadic, true);
  assert.equal(btf.funcProto('nope'), undefined);
  assert.deepEqual([...btf.funcs()], ['vfs_read', 'helper', 'printk', 'noargs']);
});

test('name lookups: kinds, duplicates, suffix-shared strings, scan and index agree', () => {
  const b = new Builder();
  const int = b.int('int', 4, 32, 1);
  // "ask" is referenced once as its own string and once as a suffix of "task".
  const taskOff = b.raw('task');
  const s1 = b.type(taskOff, K.struct, 0, false, 0);
  const t1 = b.type(taskOff + 1, K.typedef, 0, false, int);
  const t2 = b.type(b.raw('ask'), K.typedef, 0, false, int);
  const f = b.type('task', K.fwd, 0, false, 0);
  const s2 = b.type(b.raw('task'), K.struct, 0, false, 0);
  const btf = Btf.fromBuffer(b.build());
  const check = () => {
    assert.deepEqual(btf.findAllByName('task'), [s1, f, s2]);
    assert.equal(btf.findByName('task', 'struct'), s1);
    assert.equal(btf.findByName('task', 'fwd'), f);
    assert.deepEqual(btf.findAllByName('ask', 'typedef'), [t1, t2]);
    assert.equal(btf.findByName('as'), undefined);
    assert.equal(btf.findByName('task', 'union'), undefined);
    assert.equal(btf.findByName(''), undefined);
    assert.equal(btf.findByName('int', 'int'), int);
  };
  check(); // by scanning
  btf.buildNameIndex();
  check(); // by the map
  // Past the scan budget the map is built implicitly: answers must not change.
  const btf2 = Btf.fromBuffer(b.build());
  for (let i = 0; i < 100; i++) assert.equal(btf2.findByName('task', 'fwd'), f);
});

test('split BTF continues the base ids and strings', () => {
  const { buf: baseBuf, ids, str } = build();
  const base = Btf.fromBuffer(baseBuf);
  const strLen = baseBuf.readUInt32LE(20);
  const m = new Builder(strLen, base.lastId + 1);
  const modStruct = m.type('mod_state', K.struct, 2, false, 16, [m.str('owner'), ids.ptask, 0, m.str('count'), ids.int, 64]);
  const modFn = m.type('', K.func_proto, 1, false, ids.int, [m.str('s'), ids.ptask]);
  const modFunc = m.type('mod_init', K.func, 1, false, modFn);
  // Names may point into the base's string section.
  const modPid = m.type(str('pid_t'), K.typedef, 0, false, ids.int);
  const mod = Btf.fromBuffer(m.build(), base, 'mod');
  assert.equal(mod.firstId, base.lastId + 1);
  assert.equal(modStruct, mod.firstId);
  assert.equal(mod.findByName('mod_state', 'struct'), modStruct);
  assert.equal(mod.findByName('task', 'struct'), ids.task);
  assert.equal(mod.typeToString(ids.task), 'struct task');
  assert.equal(mod.member(modStruct, 'owner')?.typeId, ids.ptask);
  assert.equal(mod.typeToString(mod.member(modStruct, 'owner')!.typeId, 'owner'), 'struct task *owner');
  assert.equal(mod.sizeof(modStruct), 16);
  assert.deepEqual([...mod.funcs()], ['mod_init']);
  assert.equal(mod.typeToString(modFunc), 'int mod_init(struct task *s)');
  assert.deepEqual(mod.findAllByName('pid_t', 'typedef'), [ids.pid_t, modPid]);
  assert.equal(mod.nameOf(modPid), 'pid_t');
  assert.throws(() => mod.type(mod.lastId + 1), /no type with id/);
});
