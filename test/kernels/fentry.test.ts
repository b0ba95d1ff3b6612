// fentry and fexit programs on vfs_read reading BTF-typed arguments (the
// count, and file->f_inode->i_rdev through pointers the verifier types from
// BTF) and the return value, checked against a workload doing N reads of a
// known size from /dev/zero. Runs only in the 6.1 guest: our own kernel
// refuses tracing programs.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { assemble, jmpImm, ldx, R1, R2, R3, R4, type Insn } from '../../src/bpf/asm/index.js';
import { attachTracing, AttachType, closeAll, hasFentry, hasFexit, Program, ProgType } from '../../src/bpf/index.js';
import { Btf } from '../../src/btf/index.js';
import { startWorkload, uniquePrefix } from '../kernel/bpf-helpers.js';
import { guestOnly, kernelFixture } from './guest-env.js';
import { countIf, counterMap, CTX, SKIP, slotValue, withWorkload } from './programs.js';

after(() => closeAll());

/** The kernel's dev_t (MKDEV: major << 20 | minor) of a device file; stat gives glibc's encoding. */
function kernelDev(path: string): number {
  const rdev = statSync(path, { bigint: true }).rdev;
  const major = ((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn);
  const minor = (rdev & 0xffn) | ((rdev >> 12n) & ~0xffn);
  return Number((major << 20n) | minor);
}

function sizeName(bytes: number): 'b' | 'h' | 'w' | 'dw' {
  const s = ({ 1: 'b', 2: 'h', 4: 'w', 8: 'dw' } as const)[bytes as 1 | 2 | 4 | 8];
  assert.ok(s, `no load of ${bytes} bytes`);
  return s;
}

test('the kernel layer sees fentry and fexit here', { skip: guestOnly }, () => {
  assert.equal(hasFentry(), true);
  assert.equal(hasFexit(), true);
});

test('fentry/fexit on vfs_read read BTF-typed arguments and the return value', { skip: guestOnly, timeout: 90_000 }, async () => {
  const N = 500;
  const COUNT = 4321;
  const btf = Btf.vmlinux();
  const funcId = btf.findByName('vfs_read', 'func');
  const proto = btf.funcProto('vfs_read');
  assert.ok(funcId !== undefined && proto, 'vfs_read in vmlinux BTF');
  // Argument slots and struct layouts come from BTF, as the compiler will take them.
  const arg = (name: string): number => {
    const i = proto.params.findIndex((p) => p.name === name);
    assert.ok(i >= 0, `vfs_read has a parameter '${name}'`);
    return i * 8;
  };
  const fileId = btf.findByName('file', 'struct');
  const inodeId = btf.findByName('inode', 'struct');
  assert.ok(fileId !== undefined && inodeId !== undefined);
  const fInode = btf.offsetof(fileId, 'f_inode');
  const iRdev = btf.member(inodeId, 'i_rdev')!;
  const devZero = kernelDev('/dev/zero');

  // Both programs: the count argument is COUNT.
  const countIs: Insn[] = [ldx('dw', R1, CTX, arg('count')), jmpImm('jne', R1, COUNT, SKIP)];
  // fentry: file->f_inode->i_rdev is /dev/zero's; the loads go through
  // pointers the verifier knows as struct file * and struct inode *.
  const fromDevZero: Insn[] = [
    ldx('dw', R2, CTX, arg('file')),
    ldx('dw', R3, R2, fInode),
    ldx(sizeName(btf.sizeof(iRdev.typeId)), R4, R3, iRdev.bitOffset / 8),
    jmpImm('jne', R4, devZero, SKIP),
  ];
  // fexit: the return value follows the arguments.
  const returnedCount: Insn[] = [ldx('dw', R2, CTX, proto.params.length * 8), jmpImm('jne', R2, COUNT, SKIP)];

  const counts = counterMap(uniquePrefix('fcnt'), 2);
  const w = startWorkload(kernelFixture('read_zero'), [String(N), String(COUNT)]);
  await withWorkload(w, async () => {
    const entry = Program.load({
      type: ProgType.TRACING, expectedAttachType: AttachType.TRACE_FENTRY, attachBtfId: funcId,
      name: uniquePrefix('fentry'), insns: assemble(countIf(counts, 0, w.pid, [...countIs, ...fromDevZero])).bytes,
    });
    const exit = Program.load({
      type: ProgType.TRACING, expectedAttachType: AttachType.TRACE_FEXIT, attachBtfId: funcId,
      name: uniquePrefix('fexit'), insns: assemble(countIf(counts, 1, w.pid, [...countIs, ...returnedCount])).bytes,
    });
    const links = [attachTracing(entry), attachTracing(exit)];
    assert.deepEqual(links.map((l) => l.kind), ['tracing', 'tracing']);
    w.go();
    await w.done;
    assert.equal(slotValue(counts, 0), N, 'fentry: calls with count and file as expected');
    assert.equal(slotValue(counts, 1), N, 'fexit: calls returning count');
    for (const l of links) l.close();
    entry.close();
    exit.close();
  });
  counts.close();
});
