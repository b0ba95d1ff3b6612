#!/usr/bin/env node
// Runs one shell command in Debian's 6.1 kernel under qemu (TCG) and returns
// its exit code and output. The guest sees the host's root filesystem
// read-only over 9p, so it runs the same node, the same checkout and the same
// compiled test programs; build them on the host first.
//
//   node scripts/guest/guest.mjs 'uname -r; node -e "console.log(1)"'
//
// Library use:
//   const r = await runInGuest('node --test build/test/kernels/', { timeoutMs: 150_000 });
//   r.code, r.output, r.timings
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, readdirSync, realpathSync, rmSync, existsSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareGuest } from './prepare.mjs';

const initPath = fileURLToPath(new URL('./init', import.meta.url));
// Where scripts/guest/init mounts the results share in the guest.
const GUEST_SHARE = '/run/bpfkit';

// Variables the guest command inherits from the runner's environment.
const PASS_ENV = /^(CI|BPFKIT_.*|NODE_OPTIONS|NODE_DEBUG|NO_COLOR|FORCE_COLOR)$/;

function shQuote(s) {
  return `'${String(s).replace(/'/g, `'\\''`)}'`;
}

function readNum(file) {
  try {
    return Number(readFileSync(file, 'utf8').trim());
  } catch {
    return NaN;
  }
}

/** Results directories of runners that were killed before they could remove them. */
function removeOrphanedResults() {
  for (const name of readdirSync(tmpdir())) {
    const m = /^bpfkit-guest-(\d+)-/.exec(name);
    if (!m || Number(m[1]) === process.pid) continue;
    try {
      process.kill(Number(m[1]), 0);
    } catch (e) {
      if (e.code === 'ESRCH') rmSync(join(tmpdir(), name), { recursive: true, force: true });
    }
  }
}

/**
 * Boots the guest, runs `command` with `sh` in `cwd` (default: this process's
 * cwd, which the guest sees at the same path, read-only, even under /tmp),
 * powers off.
 *
 * `files` ({ name: content }) are put in the results share before booting;
 * the command finds them in $BPFKIT_GUEST_SHARE. `stream` (true for stderr, or
 * a writable) shows the guest's console live from init's first line.
 *
 * Resolves to { code, output, timedOut, console, timings } where code is the
 * command's exit status (124 on timeout, 125 when the guest never ran it),
 * output its stdout and stderr interleaved, console the guest's serial log,
 * and timings in seconds: boot and command on the guest's clock (kernel start
 * to command start, command run), toCommand and total on the host's (qemu
 * start to command start, qemu start to exit). qemu never outlives the
 * call, nor this process. `modules: true` makes the guest kernel's module
 * tree visible at /lib/modules (for modprobe); off by default since it puts an
 * overlay under every library lookup.
 */
export async function runInGuest(command, opts = {}) {
  const {
    cwd = process.cwd(),
    timeoutMs = 170_000,
    env = {},
    stream = false,
    files = {},
    memory = '2G',
    cpus = 2,
  } = opts;
  const m = opts.manifest ?? (await prepareGuest());
  const workDir = realpathSync(cwd);
  // The kernel command line splits on spaces and has no quoting init could rely on.
  for (const p of [workDir, initPath]) {
    if (/\s/.test(p)) throw new Error(`runInGuest: '${p}' has white space, which the kernel command line cannot carry`);
  }
  removeOrphanedResults();
  const results = mkdtempSync(join(tmpdir(), `bpfkit-guest-${process.pid}-`));
  chmodSync(results, 0o755);
  for (const [name, content] of Object.entries(files)) writeFileSync(join(results, name), content);
  const vars = {
    ...Object.fromEntries(Object.entries(process.env).filter(([k]) => PASS_ENV.test(k))),
    ...env,
    // The series booted ('6.1', or '6.12' with BPFKIT_GUEST_KERNEL): tests check it against uname.
    BPFKIT_GUEST: m.series ?? '6.1',
    BPFKIT_GUEST_SHARE: GUEST_SHARE,
  };
  const script = [
    ...Object.entries(vars).map(([k, v]) => `export ${k}=${shQuote(v)}`),
    `cd ${shQuote(workDir)} || exit 125`,
    command,
    '',
  ].join('\n');
  writeFileSync(join(results, 'cmd'), script);

  const append = [
    'console=ttyS0',
    'root=hostroot',
    'rootfstype=9p',
    // cache=loose: the root does not change while the guest runs, and without
    // caching every page of node's binary crosses 9p again under emulation.
    'rootflags=trans=virtio,version=9p2000.L,msize=262144,cache=loose',
    'ro',
    // Through sh, so the script's mode bits (a checkout may lose them) do not matter.
    'init=/bin/sh',
    'panic=-1',
    // Self-tests of crypto algorithms nobody here uses cost a second under emulation.
    'cryptomgr.notests',
    ...(process.env.BPFKIT_GUEST_VERBOSE ? [] : ['quiet']),
    'bpfkit.results=results',
    `bpfkit.work=${workDir}`,
    ...(opts.modules ? [`bpfkit.modules=${m.modules}`] : []),
    // Arguments after -- go to init: sh runs our script.
    '--', initPath,
  ].join(' ');
  const args = [
    // Dies with this process even if it is killed without a chance to clean up.
    '--pdeathsig', 'KILL', '--',
    'qemu-system-x86_64',
    '-nodefaults', '-no-user-config', '-no-reboot',
    '-accel', 'tcg', '-cpu', 'max', '-m', memory, '-smp', String(cpus),
    '-display', 'none', '-monitor', 'none', '-serial', 'stdio',
    '-kernel', m.kernel, '-initrd', m.initrd, '-append', append,
    // multidevs=remap: the host root spans several filesystems; without it
    // inode numbers from different ones could collide in the guest.
    '-fsdev', 'local,id=hostroot,path=/,security_model=passthrough,readonly=on,multidevs=remap',
    '-device', 'virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot',
    '-fsdev', `local,id=results,path=${results},security_model=passthrough`,
    '-device', 'virtio-9p-pci,fsdev=results,mount_tag=results',
    '-fsdev', `local,id=work,path=${workDir},security_model=passthrough,readonly=on,multidevs=remap`,
    '-device', 'virtio-9p-pci,fsdev=work,mount_tag=work',
  ];

  const t0 = Date.now();
  const child = spawn('setpriv', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let consoleLog = '';
  let started = false;
  let ended = false;
  let pending = '';
  let reachedInit = NaN;
  const out = stream === true ? process.stderr : stream || undefined;
  // Boot and power-off messages stay in `console`; the stream shows the lines
  // init prints between its two markers (whole lines, so a marker split
  // across chunks is still seen).
  const onData = (chunk) => {
    const s = String(chunk);
    consoleLog += s;
    if (ended) return;
    pending += s;
    const lines = pending.split('\n');
    pending = lines.pop();
    for (const raw of lines) {
      // The serial console's tty turns \n into \r\n.
      const line = raw.replace(/\r$/, '');
      if (!started) {
        if (!line.includes('bpfkit-guest: running')) continue;
        started = true;
        reachedInit = Date.now();
      } else if (line.startsWith('bpfkit-guest: done')) {
        ended = true;
        return;
      }
      out?.write(`${line}\n`);
    }
  };
  // Decoded per stream so multi-byte characters split across chunks survive.
  child.stdout.setEncoding('utf8').on('data', onData);
  child.stderr.setEncoding('utf8').on('data', onData);

  let timedOut = false;
  const killTimer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  // A runner stopped by a signal takes qemu with it; pdeathsig covers SIGKILL.
  const onSignal = (sig) => {
    child.kill('SIGKILL');
    rmSync(results, { recursive: true, force: true });
    process.kill(process.pid, sig);
  };
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.once(s, onSignal);

  const exit = await new Promise((resolve) => {
    child.on('error', (e) => resolve({ error: e }));
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
  clearTimeout(killTimer);
  for (const s of signals) process.off(s, onSignal);
  const total = (Date.now() - t0) / 1000;

  const rcFile = join(results, 'rc');
  const output = existsSync(join(results, 'output')) ? readFileSync(join(results, 'output'), 'utf8') : '';
  let code;
  if (existsSync(rcFile)) code = readNum(rcFile);
  else if (timedOut) code = 124;
  else code = 125;
  const booted = readNum(join(results, 'booted'));
  const finished = readNum(join(results, 'finished'));
  const r = {
    code,
    output,
    timedOut,
    console: consoleLog,
    qemu: exit,
    timings: { boot: booted, command: finished - booted, toCommand: (reachedInit - t0) / 1000, total },
  };
  if (!opts.keepResults) rmSync(results, { recursive: true, force: true });
  else r.results = results;
  return r;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2);
  const showConsole = argv[0] === '--console';
  if (showConsole) argv.shift();
  const command = argv.join(' ');
  if (!command) {
    console.error('usage: node scripts/guest/guest.mjs [--console] COMMAND...');
    process.exit(2);
  }
  const r = await runInGuest(command, { stream: true });
  if (showConsole || r.code === 125 || r.code === 124) process.stderr.write(`\n--- guest console ---\n${r.console}\n`);
  const t = r.timings;
  const f = (v) => (Number.isNaN(v) ? '?' : `${v.toFixed(1)}s`);
  process.stderr.write(`[guest] exit ${r.code}${r.timedOut ? ' (timed out)' : ''}; qemu start to command ${f(t.toCommand)} (kernel ${f(t.boot)}), command ${f(t.command)}, total ${f(t.total)}\n`);
  process.exit(r.code);
}
