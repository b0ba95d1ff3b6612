// `bpfkit --info` as a user runs it: on a machine where tracefs is not
// mounted (a private mount namespace, so other tests keep theirs), and as an
// unprivileged user, who gets one line and exit status 1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { hasKprobes, hasUprobes } from '../../src/bpf/index.js';
import { isRoot, repoRoot } from '../lib/fixtures.js';

const BIN = join(repoRoot, 'bin/bpfkit');
const NEED_ROOT = 'ERROR: bpfkit needs root (CAP_BPF and CAP_PERFMON): run it with sudo\n';

test('--info mounts tracefs when it is not mounted and reports what the kernel has', { skip: !isRoot() && 'needs root', timeout: 60_000 }, () => {
  // Everything happens inside `unshare --mount`: unmounting there cannot pull
  // tracefs from under anyone else, and the namespace dies with the shell.
  const script = `
    set -e
    for m in $(awk '$3 == "tracefs" { print $2 }' /proc/self/mounts | sort -r); do umount "$m"; done
    if grep -q ' tracefs ' /proc/self/mounts; then echo 'tracefs still mounted' >&2; exit 9; fi
    "$NODE" "$BIN" --info 2>&1
    echo '--- tracefs mounts'
    awk '$3 == "tracefs" { print $2 }' /proc/self/mounts
  `;
  const r = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script], {
    encoding: 'utf8',
    env: { ...process.env, NODE: process.execPath, BIN },
  });
  assert.equal(r.status, 0, r.stderr);
  const [info, mounts] = r.stdout.split('--- tracefs mounts\n') as [string, string];
  assert.match(info, /^System\n {2}OS: Linux \S+ .*\n {2}Arch: \S+\n\nBuild\n/);
  for (const section of ['Kernel helpers', 'Kernel features', 'Map types', 'Probe types']) {
    assert.match(info, new RegExp(`\\n\\n${section}\\n`));
  }
  assert.match(info, /\n {2}ringbuf: yes\n/);
  assert.match(info, /\n {2}hash: yes\n/);
  assert.match(info, /\n {2}tracepoint: yes\n/);
  assert.match(info, /\n {2}raw_tp_special: yes\n/);
  assert.match(info, /\n {2}Instruction limit: \d+\n/);
  assert.match(info, new RegExp(`\\n {2}kprobe: ${hasKprobes() ? 'yes' : 'no'}\\n`));
  assert.match(info, new RegExp(`\\n {2}uprobe: ${hasUprobes() ? 'yes' : 'no'}\\n`));
  assert.ok(info.endsWith('\n\n'), 'ends with a blank line like bpftrace --info');
  assert.match(mounts, /^\/sys\/kernel\/tracing$/m, 'tracefs is mounted after --info');
});

test('--info as an unprivileged user prints one line and exits 1', () => {
  // As root, become nobody; a non-root test run already is unprivileged.
  const cmd = isRoot()
    ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, BIN, '--info']
    : [process.execPath, BIN, '--info'];
  const r = spawnSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8' });
  assert.ifError(r.error);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, NEED_ROOT);
  assert.equal(r.status, 1);
});
