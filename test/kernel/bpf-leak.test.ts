// Nothing of ours may outlive us: after closeAll(), and after a process that
// opened maps, programs, links, mmapped rings and a poller dies of SIGTERM or
// of an uncaught exception, bpftool must find none of its objects.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { assemble, exit, mov64Imm, R0 } from '../../src/bpf/asm/index.js';
import {
  attachPerfEvent, attachRawTracepoint, BpfMap, closeAll, MapType, openTracepoint, PerfBufferReader, Poller, Program,
  ProgType, RingBufferReader, tracked,
} from '../../src/bpf/index.js';
import { eventId } from '../../src/probes/tracefs.js';
import { isRoot, repoRoot } from '../lib/fixtures.js';
import { bpftool, restoreTracefs, tracefsMountCount, uniquePrefix } from './bpf-helpers.js';

const tracefsBefore = tracefsMountCount();
after(() => restoreTracefs(tracefsBefore));

interface Ids {
  progs: number[];
  maps: number[];
  links: number[];
}

/** Which of `ids` bpftool still lists. */
function present(ids: Ids): Ids {
  const progs = new Set(bpftool<{ id: number }[]>('prog', 'show').map((p) => p.id));
  const maps = new Set(bpftool<{ id: number }[]>('map', 'show').map((m) => m.id));
  const links = new Set(bpftool<{ id: number }[]>('link', 'show').map((l) => l.id));
  return {
    progs: ids.progs.filter((i) => progs.has(i)),
    maps: ids.maps.filter((i) => maps.has(i)),
    links: ids.links.filter((i) => links.has(i)),
  };
}

const total = (ids: Ids): number => ids.progs.length + ids.maps.length + ids.links.length;

/**
 * Waits until bpftool lists none of `ids`. The kernel frees objects after the
 * last reference drops, partly from deferred work (and a dead process's files
 * are released by a task_work after exit), so it is polled, with a deadline
 * far beyond what freeing takes.
 */
async function expectGone(ids: Ids): Promise<void> {
  let left = present(ids);
  for (let i = 0; i < 100 && total(left) > 0; i++) {
    await sleep(100);
    left = present(ids);
  }
  assert.deepEqual(left, { progs: [], maps: [], links: [] }, 'BPF objects still present');
}

// The child opens one of everything, prints the ids, then waits for its fate.
const CHILD = `
import * as b from ${JSON.stringify(`${repoRoot}build/src/bpf/index.js`)};
import { assemble, mov64Imm, exit, R0 } from ${JSON.stringify(`${repoRoot}build/src/bpf/asm/index.js`)};
import { eventId } from ${JSON.stringify(`${repoRoot}build/src/probes/tracefs.js`)};
b.installExitHandlers();
const P = process.env.PREFIX;
const ret0 = assemble([mov64Imm(R0, 0), exit()]).bytes;
const hash = b.BpfMap.create({ type: b.MapType.HASH, name: P + 'h', keySize: 4, valueSize: 4, maxEntries: 8 });
const ring = b.BpfMap.ringbuf(P + 'r', 16384);
const perf = b.BpfMap.perfEventArray(P + 'e');
const rb = new b.RingBufferReader(ring, () => {});
const pb = new b.PerfBufferReader(perf, () => {}, { pagesPerCpu: 1 });
const poller = new b.Poller([rb, pb]);
poller.start();
const tp = b.Program.load({ type: b.ProgType.TRACEPOINT, name: P + 't', insns: ret0 });
const raw = b.Program.load({ type: b.ProgType.RAW_TRACEPOINT, name: P + 'q', insns: ret0 });
const l1 = b.attachPerfEvent(tp, b.openTracepoint(eventId('syscalls', 'sys_enter_getppid')));
const l2 = b.attachRawTracepoint(raw, 'sys_enter');
console.log(JSON.stringify({
  progs: [tp.info().id, raw.info().id],
  maps: [hash.info().id, ring.info().id, perf.info().id],
  links: [l1.info().id, l2.info().id],
}));
process.stdin.on('data', () => { throw new Error('deliberate uncaught exception'); });
`;

async function runChild(fate: 'SIGTERM' | 'throw'): Promise<void> {
  const prefix = uniquePrefix('lk');
  const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD], {
    env: { ...process.env, PREFIX: prefix },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<[number | null, string | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])));
  const [line] = await Promise.race([
    once(child.stdout!, 'data') as Promise<[Buffer]>,
    exited.then(([c, s]) => { throw new Error(`child died early (${s ?? c}): ${stderr}`); }),
  ]);
  const ids = JSON.parse(String(line)) as Ids;
  assert.deepEqual(present(ids), ids, 'the child\'s objects are visible before it dies');
  if (fate === 'SIGTERM') {
    child.kill('SIGTERM');
    // Re-raised after cleanup: the process still dies of the signal.
    assert.deepEqual(await exited, [null, 'SIGTERM']);
  } else {
    child.stdin!.write('x');
    assert.deepEqual(await exited, [1, null]);
    assert.match(stderr, /deliberate uncaught exception/);
  }
  await expectGone(ids);
}

test('a process killed by SIGTERM leaves no maps, programs or links', { skip: !isRoot() && 'needs root', timeout: 60_000 }, async () => {
  await runChild('SIGTERM');
});

test('a process dying of an uncaught exception leaves no maps, programs or links', { skip: !isRoot() && 'needs root', timeout: 60_000 }, async () => {
  await runChild('throw');
});

function bpfMappings(): number {
  return readFileSync('/proc/self/maps', 'utf8').split('\n').filter((l) => /anon_inode:(bpf-map|\[perf_event\])/.test(l)).length;
}

test('closeAll() releases every fd and mapping of this process', { skip: !isRoot() && 'needs root', timeout: 60_000 }, async () => {
  closeAll();
  const fdsBefore = readdirSync('/proc/self/fd').length;
  const mappingsBefore = bpfMappings();
  const P = uniquePrefix('ca');
  const ret0 = assemble([mov64Imm(R0, 0), exit()]).bytes;
  const hash = BpfMap.create({ type: MapType.LRU_HASH, name: `${P}h`, keySize: 8, valueSize: 8, maxEntries: 16 });
  const ring = BpfMap.ringbuf(`${P}r`, 16384);
  const perf = BpfMap.perfEventArray(`${P}e`);
  const rb = new RingBufferReader(ring, () => {});
  const pb = new PerfBufferReader(perf, () => {}, { pagesPerCpu: 1 });
  const poller = new Poller([rb, pb]);
  poller.start();
  const tp = Program.load({ type: ProgType.TRACEPOINT, name: `${P}t`, insns: ret0 });
  const raw = Program.load({ type: ProgType.RAW_TRACEPOINT, name: `${P}q`, insns: ret0 });
  const l1 = attachPerfEvent(tp, openTracepoint(eventId('syscalls', 'sys_enter_getppid')));
  const l2 = attachRawTracepoint(raw, 'sys_enter');
  const ids: Ids = {
    progs: [tp.info().id, raw.info().id],
    maps: [hash.info().id, ring.info().id, perf.info().id],
    links: [l1.info()!.id, l2.info()!.id],
  };
  assert.deepEqual(present(ids), ids);
  assert.ok(bpfMappings() > mappingsBefore);
  assert.ok(tracked().length > 0);
  closeAll();
  assert.deepEqual(tracked(), []);
  assert.equal(bpfMappings(), mappingsBefore);
  // The poller's epoll and eventfd close once its pending wait returns.
  for (let i = 0; i < 50 && readdirSync('/proc/self/fd').length > fdsBefore; i++) await sleep(20);
  assert.equal(readdirSync('/proc/self/fd').length, fdsBefore);
  await expectGone(ids);
  // Objects closed by closeAll() stay closable without harm.
  for (const o of [l1, l2, tp, raw, rb, pb, hash, ring, perf]) o.close();
});
