#!/usr/bin/env node
// `npm run test:kernel-6.1`: the kernel tests that need kprobes or fentry
// (test/kernels/*.test.ts) and a smoke subset of the main kernel suite, run in
// Debian's 6.1 kernel under qemu (scripts/guest/). Expects a fresh build.
//
//   node test/kernels/run-guest.mjs [substring...]   only test files whose path has one
//   BPFKIT_GUEST_KERNEL=6.12 node test/kernels/run-guest.mjs ...   Debian 12's 6.12 kernel instead
//     (fprobe, so kprobe_multi links; see scripts/guest/prepare.mjs)
//
// Everything the guest cannot do on its read-only view of the checkout is done
// here first: compiling the C workloads, and saving the host's `--info` and
// kernel config for the comparison test.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { guestSeries, prepareGuest } from '../../scripts/guest/prepare.mjs';
import { runInGuest } from '../../scripts/guest/guest.mjs';

const root = new URL('../../', import.meta.url).pathname;
const build = join(root, 'build/test');

// Main-suite files that also run in the guest: attach paths other than kprobes
// (tracepoints, raw tracepoints, uprobes, perf events, test runs, fentry) and
// the BTF reader on a second kernel's BTF. Heavier ones (a million ring-buffer
// events) stay on the host: under emulation they would take minutes.
// A smoke subset of the main suite: the kernel layer, the library API on the
// older kernel, and the language's kprobe/fentry probes (which only run here).
// Kept small: everything is ~20x slower under TCG.
const SMOKE = ['kernel/bpf-attach.test.js', 'kernel/btf.test.js', 'kernel/api.test.js', 'kernel/probes-kernel.test.js'];
// Whole guest run, boot to power-off; a run this long is a failure anyway.
const TIMEOUT_MS = 600_000;

const log = (msg) => process.stderr.write(`[kernel-${guestSeries}] ${msg}\n`);

function testFiles(filters) {
  const ours = existsSync(join(build, 'kernels'))
    ? readdirSync(join(build, 'kernels')).filter((f) => f.endsWith('.test.js')).sort().map((f) => `kernels/${f}`)
    : [];
  let files = [...ours, ...SMOKE.filter((f) => existsSync(join(build, f)))];
  if (filters.length) files = files.filter((f) => filters.some((s) => f.includes(s)));
  return files.map((f) => join(build, f));
}

/**
 * Compiles, on the host, every C workload the chosen tests will ask for. The
 * main suite's tests call compileC('name', [flags]) at run time, which the
 * read-only guest cannot do, so those calls are read from the built files and
 * made here with the same arguments.
 */
async function compileFixtures(files) {
  const { compileC } = await import(join(build, 'lib/fixtures.js'));
  const { kernelFixture } = await import(join(build, 'kernels/guest-env.js'));
  const call = /compileC\(\s*(["'])([\w.-]+)\1\s*(?:,\s*(\[[^\]]*\]))?\s*(?:,\s*(["'])([\w.-]+)\4)?\s*\)/g;
  for (const f of files) {
    for (const m of readFileSync(f, 'utf8').matchAll(call)) {
      let flags;
      try {
        flags = m[3] ? JSON.parse(m[3].replace(/'/g, '"')) : [];
      } catch {
        // Flags computed at run time: the host's main suite built that binary already.
        continue;
      }
      compileC(m[2], flags, m[5] ?? m[2]);
    }
  }
  // Workloads built through a helper whose output name is a constant (the
  // regex above only reads literals): build them when a chosen file calls it.
  const bt = await import(join(build, 'lib/bt.js'));
  if (files.some((f) => /\bworkload\(\)/.test(readFileSync(f, 'utf8')))) bt.workload();
  for (const c of readdirSync(join(root, 'test/kernels/fixtures'))) {
    if (c.endsWith('.c')) kernelFixture(c.slice(0, -2));
  }
}

function hostFacts() {
  const info = spawnSync(process.execPath, [join(root, 'bin/bpfkit'), '--info'], { encoding: 'utf8' });
  if (info.status !== 0) throw new Error(`bpfkit --info failed on the host: ${info.stderr}`);
  const files = { 'host-info.txt': info.stderr };
  if (existsSync('/proc/config.gz')) files['host-kconfig.txt'] = gunzipSync(readFileSync('/proc/config.gz'));
  return files;
}

const t0 = Date.now();
if (!existsSync(join(build, 'kernels'))) {
  log('build/test/kernels is missing: run `node scripts/build.mjs` first (npm run test:kernel-6.1 does)');
  process.exit(2);
}
const files = testFiles(process.argv.slice(2));
if (!files.length) {
  log('no test files match');
  process.exit(2);
}
const m = await prepareGuest();
const tPrepared = Date.now();
await compileFixtures(files);
const shareFiles = hostFacts();

const command = ['node', '--test', '--test-concurrency=1', '--test-reporter=spec', ...files.map((f) => relative(root, f))].join(' ');
log(`booting ${m.version} for: ${files.map((f) => relative(build, f)).join(' ')}`);
const tBoot = Date.now();
const r = await runInGuest(command, {
  cwd: root,
  timeoutMs: TIMEOUT_MS,
  files: shareFiles,
  env: { BPFKIT_GUEST_KCONFIG: m.config, BPFKIT_GUEST_MODULES: join(m.modules, 'modules', m.version) },
  stream: process.stdout,
});
const tEnd = Date.now();
if (r.code === 124 || r.code === 125) {
  process.stdout.write(`\n--- guest console ---\n${r.console}\n`);
  log(r.code === 124 ? `timed out after ${TIMEOUT_MS / 1000} s` : 'the guest never ran the tests (see its console above)');
}
const s = (ms) => `${(ms / 1000).toFixed(1)}s`;
const g = (v) => (Number.isNaN(v) ? '?' : `${v.toFixed(1)}s`);
log(
  `exit ${r.code}; prepare ${s(tPrepared - t0)}; guest ${s(tEnd - tBoot)}: qemu start to tests ${g(r.timings.toCommand)} `
  + `(kernel ${g(r.timings.boot)}), tests ${g(r.timings.command)}; total ${s(tEnd - t0)}`,
);
process.exit(r.code);
