// kprobes and kretprobes through the kprobe PMU, attached with our kernel
// layer, counting calls of kernel functions made by a workload that does a
// known number of them. Runs only in the 6.1 guest (our own kernel has no
// kprobes); see test/kernels/run-guest.mjs.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { assemble, jmpImm, ldx, R1, R2 } from '../../src/bpf/asm/index.js';
import { attachPerfEvent, closeAll, hasKprobes, openKprobe, Program, ProgType } from '../../src/bpf/index.js';
import { Btf } from '../../src/btf/index.js';
import { compileC } from '../lib/fixtures.js';
import { startWorkload, uniquePrefix } from '../kernel/bpf-helpers.js';
import { guestOnly, kernelFixture } from './guest-env.js';
import { countIf, counterMap, CTX, SKIP, slotValue, withWorkload } from './programs.js';

after(() => closeAll());

// pt_regs offsets from the kernel's own BTF rather than a copied header.
function regOffset(reg: string): number {
  const btf = Btf.vmlinux();
  const id = btf.findByName('pt_regs', 'struct');
  assert.ok(id !== undefined, 'struct pt_regs in vmlinux BTF');
  return btf.offsetof(id, reg);
}

test('the kernel layer sees kprobes here', { skip: guestOnly }, () => {
  assert.equal(hasKprobes(), true);
});

test('kprobe and kretprobe on __x64_sys_getppid count exactly N calls of one process', { skip: guestOnly, timeout: 90_000 }, async () => {
  const N = 1000;
  const bin = compileC('getppid_loop');
  for (const retprobe of [false, true]) {
    const counts = counterMap(uniquePrefix('kcnt'), 1);
    const w = startWorkload(bin, [String(N)]);
    await withWorkload(w, async () => {
      // The kretprobe counts only returns carrying the right value: the
      // workload's parent is this process.
      const checks = retprobe ? [ldx('dw', R1, CTX, regOffset('ax')), jmpImm('jne', R1, process.pid, SKIP)] : [];
      const prog = Program.load({
        type: ProgType.KPROBE,
        name: uniquePrefix(retprobe ? 'kret' : 'kprobe'),
        insns: assemble(countIf(counts, 0, w.pid, checks)).bytes,
      });
      const link = attachPerfEvent(prog, openKprobe('__x64_sys_getppid', { retprobe }));
      assert.equal(link.kind, 'perf_event', 'attached through a bpf link (6.1 has them for perf events)');
      w.go();
      await w.done;
      assert.equal(slotValue(counts, 0), N, retprobe ? 'kretprobe hits' : 'kprobe hits');
      link.close();
      prog.close();
    });
    counts.close();
  }
});

test('kprobe on vfs_read reads its arguments from pt_regs: N reads of 4321 bytes', { skip: guestOnly, timeout: 90_000 }, async () => {
  const N = 500;
  const COUNT = 4321;
  const counts = counterMap(uniquePrefix('kcnt'), 1);
  const w = startWorkload(kernelFixture('read_zero'), [String(N), String(COUNT)]);
  await withWorkload(w, async () => {
    // vfs_read(file, buf, count, pos): the third argument is in rdx.
    const checks = [ldx('dw', R2, CTX, regOffset('dx')), jmpImm('jne', R2, COUNT, SKIP)];
    const prog = Program.load({ type: ProgType.KPROBE, name: uniquePrefix('kread'), insns: assemble(countIf(counts, 0, w.pid, checks)).bytes });
    const link = attachPerfEvent(prog, openKprobe('vfs_read'));
    w.go();
    await w.done;
    assert.equal(slotValue(counts, 0), N);
    link.close();
    prog.close();
  });
  counts.close();
});
