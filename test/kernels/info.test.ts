// `bpfkit --info` on two kernels: our 6.18 (no kprobes, fentry refused) and
// Debian's 6.1 in the guest (both work). The runner saves the host's report
// and kernel config in the results share before booting; here the guest's
// report is made and the two are compared line by line. Each line may differ
// only where the kernels really do, and where a kernel config option decides
// a line, the line must agree with that kernel's config.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { guestOnly, guestShare, repoRoot } from './guest-env.js';

type Report = Map<string, string>;
type Kconfig = Map<string, string>;

/** "Section/key" -> value, for every "  key: value" line under a section title. */
function parseInfo(text: string): Report {
  const out: Report = new Map();
  let section = '';
  for (const line of text.split('\n')) {
    const item = /^ {2}([^:]+): (.*)$/.exec(line);
    if (item) out.set(`${section}/${item[1]}`, item[2]!);
    else if (/^\S/.test(line)) section = line.trim();
  }
  return out;
}

function parseKconfig(text: string): Kconfig {
  const out: Kconfig = new Map();
  for (const m of text.matchAll(/^CONFIG_(\w+)=(.*)$/gm)) out.set(m[1]!, m[2]!);
  return out;
}

const on = (c: Kconfig, ...opts: string[]): boolean => opts.every((o) => c.get(o) === 'y');

// Lines a config option decides, with the option(s). Both kernels are
// checked against their own config, so a wrong probe fails even where the
// two kernels happen to agree.
const BY_CONFIG: [line: string, yes: (c: Kconfig) => boolean][] = [
  ['Probe types/kprobe', (c) => on(c, 'KPROBES', 'KPROBE_EVENTS')],
  ['Probe types/kprobe_multi', (c) => on(c, 'KPROBES', 'FPROBE')],
  ['Kernel helpers/override_return', (c) => on(c, 'BPF_KPROBE_OVERRIDE')],
  // Both kernels have modules loaded when they have modules at all: the guest
  // loads 9p's from its initramfs.
  ['Kernel features/module btf', (c) => on(c, 'DEBUG_INFO_BTF_MODULES')],
];

// Lines that follow from fentry working: kfunc itself, and the helpers that
// --info can only try in a tracing (fentry) program.
const FOLLOW_FENTRY = ['Probe types/kfunc', 'Kernel helpers/dpath', 'Kernel helpers/skboutput'];

interface Both {
  host: Report;
  guest: Report;
  hostConfig?: Kconfig;
  guestConfig?: Kconfig;
}

let cached: Both | undefined;
function reports(): Both {
  if (cached) return cached;
  const hostFile = join(guestShare, 'host-info.txt');
  assert.ok(existsSync(hostFile), `${hostFile} is missing: run through test/kernels/run-guest.mjs, which saves the host's report there`);
  const r = spawnSync(process.execPath, [join(repoRoot, 'bin/bpfkit'), '--info'], { encoding: 'utf8' });
  assert.equal(r.status, 0, `bpfkit --info failed in the guest: ${r.stderr}`);
  const hostConfigFile = join(guestShare, 'host-kconfig.txt');
  const guestConfigFile = process.env.BPFKIT_GUEST_KCONFIG;
  cached = {
    host: parseInfo(readFileSync(hostFile, 'utf8')),
    // bpftrace prints --info on stderr and so do we.
    guest: parseInfo(r.stderr),
    hostConfig: existsSync(hostConfigFile) ? parseKconfig(readFileSync(hostConfigFile, 'utf8')) : undefined,
    guestConfig: guestConfigFile && existsSync(guestConfigFile) ? parseKconfig(readFileSync(guestConfigFile, 'utf8')) : undefined,
  };
  return cached;
}

test('--info: kprobe and kfunc say no on the host and yes in the guest', { skip: guestOnly }, () => {
  const { host, guest } = reports();
  assert.match(host.get('System/OS') ?? '', /^Linux 6\.18\./, 'the host report is from our 6.18 kernel');
  assert.match(guest.get('System/OS') ?? '', /^Linux 6\.1\./);
  assert.equal(host.get('Probe types/kprobe'), 'no');
  assert.equal(guest.get('Probe types/kprobe'), 'yes');
  assert.equal(host.get('Probe types/kfunc'), 'no');
  assert.equal(guest.get('Probe types/kfunc'), 'yes');
});

test('--info: the reports differ exactly where the kernels do', { skip: guestOnly }, () => {
  const { host, guest, hostConfig, guestConfig } = reports();
  assert.deepEqual([...guest.keys()].sort(), [...host.keys()].sort(), 'same lines in both reports');
  const expected = new Set<string>(['Probe types/kprobe', ...FOLLOW_FENTRY]);
  if (hostConfig && guestConfig) {
    for (const [line, yes] of BY_CONFIG) if (yes(hostConfig) !== yes(guestConfig)) expected.add(line);
  }
  const differing = [...host.keys()]
    .filter((k) => !k.startsWith('System/') && host.get(k) !== guest.get(k))
    .map((k) => `${k}: host ${host.get(k)}, guest ${guest.get(k)}`);
  const unexpected = differing.filter((d) => !expected.has(d.slice(0, d.indexOf(': '))));
  const missing = [...expected].filter((k) => host.get(k) === guest.get(k)).map((k) => `${k}: ${host.get(k)} on both`);
  assert.deepEqual({ unexpected, missing }, { unexpected: [], missing: [] });
});

test('--info: lines decided by a config option agree with each kernel\'s config', { skip: guestOnly }, (t) => {
  const { host, guest, hostConfig, guestConfig } = reports();
  const wrong: string[] = [];
  for (const [name, report, config] of [['host', host, hostConfig], ['guest', guest, guestConfig]] as const) {
    if (!config) {
      t.diagnostic(`no kernel config for the ${name}: its config-decided lines are not checked`);
      continue;
    }
    for (const [line, yes] of BY_CONFIG) {
      const want = yes(config) ? 'yes' : 'no';
      if (report.get(line) !== want) wrong.push(`${name} ${line}: says ${report.get(line)}, config says ${want}`);
    }
  }
  assert.deepEqual(wrong, []);
});
