// Every tool, two seconds each: tools this kernel can run start, are
// interrupted with SIGINT, exit cleanly and leave no BPF program, map or
// link behind (the ids they held, read from their fdinfo while running,
// are gone after); the others refuse with the reason `bpfkit tools` gives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { isRoot } from '../lib/fixtures.js';
import { BPFKIT } from '../lib/bt.js';
import { findTool, toolNames, unavailableReason } from '../../src/tools/index.js';
import { bpfIdsOf, stillLoaded, bpfkit, type BpfIds } from './tools-helpers.js';

const root = !isRoot() && 'needs root';

async function smoke(name: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; ids: BpfIds }> {
  const child = spawn(process.execPath, [BPFKIT, name], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  // Attaching takes a moment; the ids are read once everything is loaded.
  let ids: BpfIds = { progs: [], maps: [], links: [] };
  for (let t = 0; t < 20; t++) {
    await sleep(100);
    const now = bpfIdsOf(child.pid!);
    if (now.progs.length + now.maps.length >= ids.progs.length + ids.maps.length) ids = now;
  }
  const kill = setTimeout(() => child.kill('SIGKILL'), 20000);
  child.kill('SIGINT');
  const end = await closed;
  clearTimeout(kill);
  return { ...end, stderr, ids };
}

for (const name of toolNames()) {
  const tool = findTool(name)!;
  const why = root ? undefined : unavailableReason(tool);
  test(`smoke: ${name}`, { skip: root }, async () => {
    if (why) {
      const r = bpfkit([name]);
      assert.equal(r.code, 1);
      assert.equal(r.stderr, `bpfkit ${name}: cannot run on this kernel: ${why}\n`);
      return;
    }
    const r = await smoke(name);
    assert.equal(r.stderr, '');
    assert.equal(r.signal, null);
    assert.equal(r.code, 0);
    assert.ok(r.ids.progs.length > 0 && r.ids.maps.length > 0, `${name} held no BPF objects while running`);
    // The kernel frees programs after an RCU grace period, and their maps after them.
    let left = stillLoaded(r.ids);
    for (let i = 0; i < 30 && left.progs.length + left.maps.length + left.links.length > 0; i++) {
      await sleep(100);
      left = stillLoaded(left);
    }
    assert.deepEqual(left, { progs: [], maps: [], links: [] });
  });
}
