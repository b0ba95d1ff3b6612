// Hand-assembled counters shared by the guest tests: each adds 1 to a slot of
// an array map when the current process is the workload and the caller's own
// checks pass, so a test can compare the count with what the workload did.
import {
  alu64Imm, atomic, call, exit, jmpImm, label, ldMapFd, mov64Imm, mov64Reg, st, R0, R1, R2, R6, R10, type Insn,
} from '../../src/bpf/asm/index.js';
import { BpfMap, MapType, u32Key } from '../../src/bpf/index.js';
import type { Workload } from '../kernel/bpf-helpers.js';

/** Where `checks` may find the program's context (pt_regs, or the tracing args array). */
export const CTX = R6;
/** Label `checks` jump to when the event does not count. */
export const SKIP = 'skip';

/**
 * Counts events of process `tgid` into counts[slot]. `checks` run after the
 * process test with the context in CTX (R6); they may use R1-R5 and R7-R9 and
 * jump to SKIP to leave the event uncounted.
 */
export function countIf(counts: BpfMap, slot: number, tgid: number, checks: Insn[] = []): Insn[] {
  return [
    mov64Reg(CTX, R1),
    call('get_current_pid_tgid'),
    alu64Imm('rsh', R0, 32),
    jmpImm('jne', R0, tgid, SKIP),
    ...checks,
    st('w', R10, -4, slot),
    mov64Reg(R2, R10),
    alu64Imm('add', R2, -4),
    ldMapFd(R1, counts.fd),
    call('map_lookup_elem'),
    jmpImm('jeq', R0, 0, SKIP),
    mov64Imm(R1, 1),
    atomic('dw', 'add', R0, 0, R1),
    label(SKIP),
    mov64Imm(R0, 0),
    exit(),
  ];
}

export function counterMap(name: string, slots: number): BpfMap {
  return BpfMap.create({ type: MapType.ARRAY, name, keySize: 4, valueSize: 8, maxEntries: slots });
}

export function slotValue(counts: BpfMap, slot: number): number {
  return Number(counts.lookup(u32Key(slot))!.readBigUInt64LE(0));
}

/**
 * Runs `body` with a started workload and makes sure the workload ends even
 * when `body` throws (it would otherwise wait on stdin and keep the test
 * process alive).
 */
export async function withWorkload<T>(w: Workload, body: () => Promise<T> | T): Promise<T> {
  try {
    return await body();
  } catch (e) {
    w.child.kill('SIGKILL');
    await w.done.catch(() => undefined);
    throw e;
  }
}
