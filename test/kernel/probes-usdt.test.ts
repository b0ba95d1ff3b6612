// The usdt provider on a fixture that writes its own .note.stapsdt records:
// argument operands in a register, in memory (rip-relative global, stack
// slot) and as a constant, each read by a hand-assembled program following
// the target's ArgRead; and a semaphore the kernel counts up only while the
// probe is attached.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { closeAll, hasUprobeRefCtr, onlineCpus, ProgType } from '../../src/bpf/index.js';
import { Trace } from '../../src/index.js';
import { splitAttachPoint } from '../../src/lang/attach.js';
import { locOf, START } from '../../src/lang/loc.js';
import { usdtProvider } from '../../src/probes/usdt.js';
import { ProbeError, type ExpandEnv, type ProbeTarget } from '../../src/probes/provider.js';
import { listProbes } from '../../src/probes/list.js';
import { providers } from '../../src/probes/index.js';
import '../../src/probes/more.js';
import { compileC, isRoot } from '../lib/fixtures.js';
import { restoreTracefs, startWorkload, tracefsMountCount } from './bpf-helpers.js';
import { nmAddress, readelfFileOffset, sumProgram, SumMap } from './probes-helpers.js';

// tracefs gets mounted on demand; leave the machine as the test found it.
const tracefsBefore = tracefsMountCount();
after(() => {
  closeAll();
  restoreTracefs(tracefsBefore);
});

const root = !isRoot() && 'needs root';
const N = 40;
const TRI = BigInt((N * (N - 1)) / 2);

const pie = () => compileC('probe_usdt', [], 'probe_usdt');
const noPie = () => compileC('probe_usdt', ['-no-pie'], 'probe_usdt_nopie');

function expand(raw: string, env: Partial<ExpandEnv> = {}): ProbeTarget[] {
  const { provider, parts } = splitAttachPoint(raw);
  return usdtProvider.expand({ kind: 'AttachPoint', loc: locOf(START, START), raw, provider, parts }, { positional: [], ...env });
}

/** `readelf -n`'s view of one probe: its location, semaphore and argument string. */
function readelfNote(bin: string, name: string): { pc: number; sem: number; args: string } {
  const text = execFileSync('readelf', ['-n', bin], { encoding: 'utf8' });
  const m = new RegExp(`Name: ${name}\\n\\s+Location: 0x([0-9a-f]+), Base: 0x[0-9a-f]+, Semaphore: 0x([0-9a-f]+)\\n\\s+Arguments: (.*)`).exec(text);
  if (!m) throw new Error(`readelf: no note ${name} in ${bin}`);
  return { pc: parseInt(m[1], 16), sem: parseInt(m[2], 16), args: m[3].trim() };
}

test('usdt targets: locations, semaphores and argument reads from the notes', () => {
  for (const bin of [pie(), noPie()]) {
    const [tick] = expand(`usdt:${bin}:bpfkit:tick`);
    const note = readelfNote(bin, 'tick');
    assert.equal(note.args, '-8@%rdi 8@counter(%rip) 4@$7');
    assert.equal(tick.name, `usdt:${bin}:bpfkit:tick`);
    assert.equal(tick.provider, 'usdt');
    assert.equal(tick.progType, ProgType.KPROBE);
    assert.equal(tick.data.offset, readelfFileOffset(bin, note.pc));
    assert.equal(tick.data.refCtrOffset, undefined);
    assert.deepEqual(tick.argRead!(0), { kind: 'ctx', off: 112, size: 8, signed: true });
    // counter(%rip): the global's address relative to the probe's own ip, so PIE needs no load bias.
    assert.deepEqual(tick.argRead!(1), { kind: 'mem', terms: [{ off: 128, scale: 1 }], disp: BigInt(nmAddress(bin, 'counter') - note.pc), size: 8, signed: false, user: true });
    assert.deepEqual(tick.argRead!(2), { kind: 'const', value: 7n });
    assert.equal(tick.argRead!(3), undefined);
    // argN gives only what a plain ctx load can read.
    assert.deepEqual(tick.argN!(0), tick.argRead!(0));
    assert.equal(tick.argN!(1), undefined);

    const [stack] = expand(`usdt:${bin}:stack`);
    assert.equal(stack.name, `usdt:${bin}:bpfkit:stack`);
    assert.deepEqual(stack.argRead!(0), { kind: 'mem', terms: [{ off: 152, scale: 1 }], disp: BigInt(/8@(-?\d+)\(%rsp\)/.exec(readelfNote(bin, 'stack').args)![1]), size: 8, signed: false, user: true });

    const [guarded] = expand(`U:${bin}:bpfkit:guarded`);
    const g = readelfNote(bin, 'guarded');
    assert.equal(g.sem, nmAddress(bin, 'bpfkit_guarded_semaphore'));
    assert.equal(guarded.data.refCtrOffset, readelfFileOffset(bin, g.sem));
  }
});

test('usdt wildcards, listing and errors', () => {
  const bin = pie();
  assert.deepEqual(expand(`usdt:${bin}:bpfkit:*`).map((t) => t.name), ['tick', 'stack', 'guarded'].map((n) => `usdt:${bin}:bpfkit:${n}`));
  assert.deepEqual(expand(`usdt:${bin}:*:t*`).map((t) => t.name), [`usdt:${bin}:bpfkit:tick`]);
  assert.deepEqual(listProbes(`usdt:${bin}:*`, false, providers({ maxStrlen: 64 })), ['guarded', 'stack', 'tick'].map((n) => `usdt:${bin}:bpfkit:${n}`));
  assert.deepEqual(listProbes(`usdt:${bin}:bpfkit:tick`, true, providers({ maxStrlen: 64 })), [`usdt:${bin}:bpfkit:tick`, '    arg0: -8@%rdi', '    arg1: 8@counter(%rip)', '    arg2: 4@$7']);
  assert.throws(() => expand(`usdt:${bin}:bpfkit:nope`), (e: unknown) => e instanceof ProbeError && /usdt probe not found/.test(e.message));
  assert.throws(() => expand(`usdt:${bin}`), /requires 2 or 3 arguments/);
});

test('-l usdt matches bpftrace', (t) => {
  const bin = pie();
  let reference: string;
  try {
    reference = execFileSync('bpftrace', ['-l', `usdt:${bin}:*`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    t.skip('bpftrace is not installed to compare with');
    return;
  }
  assert.equal(listProbes(`usdt:${bin}:*`, false, providers({ maxStrlen: 64 })).map((l) => `${l}\n`).join(''), reference);
});

function env(pid?: number) {
  return { pid, ncpus: onlineCpus().length, onlineCpus: onlineCpus() };
}

test('register, memory and constant operands read what the program passed', { skip: root }, async () => {
  for (const bin of [pie(), noPie()]) {
    const [tick] = expand(`usdt:${bin}:bpfkit:tick`);
    const [stack] = expand(`usdt:${bin}:bpfkit:stack`);
    const mt = new SumMap(3);
    const ms = new SumMap(1);
    const pt = sumProgram(mt, tick.progType, [0, 1, 2].map((n) => tick.argRead!(n)!));
    const ps = sumProgram(ms, stack.progType, [stack.argRead!(0)!]);
    const w = startWorkload(bin, [String(N)]);
    mt.setTgid(w.pid);
    ms.setTgid(w.pid);
    const a = usdtProvider.attach!(pt.fd, tick, env());
    const b = usdtProvider.attach!(ps.fd, stack, env());
    w.go();
    await w.done;
    a.close();
    b.close();
    assert.equal(mt.count, N, bin);
    assert.deepEqual([mt.sum(0), mt.sum(1), mt.sum(2)], [TRI, TRI + BigInt(100 * N), BigInt(7 * N)], bin);
    assert.equal(ms.count, N);
    assert.equal(ms.sum(0), 3n * TRI);
  }
});

test('a semaphore-guarded probe fires only while attached', { skip: root || (!hasUprobeRefCtr() && 'the uprobe PMU has no ref_ctr_offset') }, async () => {
  const bin = pie();
  const [guarded] = expand(`usdt:${bin}:bpfkit:guarded`);
  const m = new SumMap(1);
  const prog = sumProgram(m, guarded.progType, [guarded.argN!(0)!]);
  // Not attached: the program never sees its probe enabled.
  assert.equal(await enabledTurns(bin), 0);
  const turns = await enabledTurns(bin, (pid) => {
    m.setTgid(pid);
    const a = usdtProvider.attach!(prog.fd, guarded, env());
    return () => a.close();
  });
  assert.equal(turns, N);
  assert.equal(m.count, N);
  assert.equal(m.sum(0), TRI);
  // Detached again: the kernel counted the semaphore back down.
  assert.equal(await enabledTurns(bin), 0);
  prog.close();
  m.close();
});

/**
 * Runs the fixture, with `during` attaching (and returning the detach) once
 * it has a pid, and returns what it printed: how many loop turns saw the
 * semaphore set.
 */
async function enabledTurns(bin: string, during?: (pid: number) => () => void): Promise<number> {
  const child = spawn(bin, [String(N)], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const done = new Promise<void>((resolve, reject) => child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${bin} exited ${code}`)))));
  const detach = during?.(child.pid!);
  child.stdin.end('g');
  await done;
  detach?.();
  return Number(out.trim());
}

test('bpftrace program: usdt arg0 through compile and a session', { skip: root }, async () => {
  const bin = pie();
  const w = startWorkload(bin, [String(N)]);
  try {
    const tr = await Trace.start(`usdt:${bin}:bpfkit:tick /pid == ${w.pid}/ { @sum = sum(arg0); @n = count(); @p[probe] = count(); }`);
    w.go();
    await w.done;
    const r = await tr.stop();
    const get = (name: string) => r.maps.find((x) => x.name === name)?.entries.map((e) => [e.key.map((k) => String((k as { value: unknown }).value)).join(','), e.value]);
    assert.deepEqual(get('@sum'), [['', TRI]]);
    assert.deepEqual(get('@n'), [['', BigInt(N)]]);
    assert.deepEqual(get('@p'), [[`usdt:${bin}:bpfkit:tick`, BigInt(N)]]);
  } finally {
    w.child.kill();
  }
});

