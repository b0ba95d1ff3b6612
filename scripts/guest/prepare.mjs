#!/usr/bin/env node
// Prepares the second kernel once per machine: Debian's newest 6.1 kernel image
// (extracted, never installed into the host's /boot) and an initramfs that can
// mount a 9p root. The result lives outside the repo so a fresh clone on the
// same machine (CI) reuses it.
//
//   node scripts/guest/prepare.mjs            ensure the cache, print its manifest
//   node scripts/guest/prepare.mjs --refresh  look for a newer 6.1 kernel first
//
// BPFKIT_GUEST_KERNEL=6.12 selects Debian 12's other kernel series (6.12,
// from bookworm's security/backports updates) instead: it has what 6.1's
// build leaves out, e.g. fprobe and so kprobe_multi links. Each series has
// its own cache directory and manifest; 6.1 is the default and keeps the
// original manifest.json.
//
// Library use: `await prepareGuest()` returns the manifest (see below).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync, renameSync, rmSync, readdirSync, cpSync, chmodSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const cacheDir = process.env.BPFKIT_GUEST_CACHE || '/var/cache/bpfkit-guest';
/** The kernel series the guest boots: '6.1' (default) or '6.12'. */
export const guestSeries = process.env.BPFKIT_GUEST_KERNEL || '6.1';
const SERIES = {
  // linux-image-6.1.0-N-amd64 -> 6.1.0-N-amd64
  '6.1': { search: '^linux-image-6\\.1\\.0-[0-9]+-amd64$', re: /^linux-image-(6\.1\.0-(\d+)-amd64) /gm, dir: /^(6\.1\.0-\d+-amd64)(\.tmp-\d+)?$/, manifest: 'manifest.json' },
  // linux-image-6.12.N+debV-amd64 -> 6.12.N+debV-amd64
  '6.12': { search: '^linux-image-6\\.12\\.[0-9]+\\+deb[0-9]+-amd64$', re: /^linux-image-(6\.12\.(\d+)\+deb\d+-amd64) /gm, dir: /^(6\.12\.\d+\+deb\d+-amd64)(\.tmp-\d+)?$/, manifest: 'manifest-6.12.json' },
};
function seriesInfo(series) {
  const s = SERIES[series];
  if (!s) throw new Error(`BPFKIT_GUEST_KERNEL=${series}: known series are ${Object.keys(SERIES).join(', ')}`);
  return s;
}
// Bumped whenever the way the initramfs is built changes, so stale caches are rebuilt.
const RECIPE = 5;
// virtio_pci is listed because udev is removed from the image (see the hook
// below): nothing else would load the driver the 9p transport sits on.
const EXTRA_MODULES = ['virtio_pci', '9p', '9pnet', '9pnet_virtio', 'netfs', 'fscache'];

function log(msg) {
  process.stderr.write(`[guest-prepare] ${msg}\n`);
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}\n${r.stderr ?? ''}${r.stdout ?? ''}`);
  return r.stdout ?? '';
}

function have(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

let aptUpdated = false;
function aptUpdate() {
  if (aptUpdated) return;
  log('apt-get update');
  run('apt-get', ['update', '-qq']);
  aptUpdated = true;
}

function ensureHostTools() {
  const need = [];
  if (!have('qemu-system-x86_64')) need.push('qemu-system-x86');
  if (!have('mkinitramfs')) need.push('initramfs-tools');
  if (!have('zstd')) need.push('zstd');
  if (!have('xz')) need.push('xz-utils');
  if (!have('setpriv') || !have('unshare')) need.push('util-linux');
  if (!need.length) return;
  aptUpdate();
  log(`installing ${need.join(' ')}`);
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...need], {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}

/** Newest `linux-image-6.1.0-N-amd64` (or the series' equivalent) known to apt, as its version string `6.1.0-N-amd64`. */
function newestKernel(series) {
  const info = seriesInfo(series);
  const search = () => run('apt-cache', ['search', '--names-only', info.search]);
  let out = search();
  if (!out.trim()) {
    // A fresh machine may have no package lists yet.
    aptUpdate();
    out = search();
  }
  const found = [...out.matchAll(info.re)].map((m) => ({ version: m[1], n: Number(m[2]) }));
  if (!found.length) throw new Error(`apt knows no ${info.search} package (is this Debian 12 with its main repository?)`);
  return found.reduce((a, b) => (b.n > a.n ? b : a)).version;
}

function readManifest(series) {
  try {
    const m = JSON.parse(readFileSync(join(cacheDir, seriesInfo(series).manifest), 'utf8'));
    if (m.recipe === RECIPE && existsSync(m.kernel) && existsSync(m.initrd)) return m;
  } catch {
    // No cache yet, or an unreadable one: it is rebuilt.
  }
  return null;
}

// Removes udev from the image: under TCG starting udevd and replaying uevents
// costs about four seconds of an otherwise ten-second boot, and the only
// drivers this guest needs are loaded explicitly from conf/modules.
const NO_UDEV_HOOK = `#!/bin/sh
PREREQ="udev"
prereqs() { echo "$PREREQ"; }
case "$1" in prereqs) prereqs; exit 0 ;; esac
rm -f "$DESTDIR/scripts/init-top/udev" "$DESTDIR/scripts/init-bottom/udev" \\
  "$DESTDIR/usr/bin/udevadm" "$DESTDIR/bin/udevadm" "$DESTDIR/sbin/udevadm" \\
  "$DESTDIR/lib/systemd/systemd-udevd" "$DESTDIR/usr/lib/systemd/systemd-udevd"
`;

function buildImage(version, series) {
  // Per-process, so two runs preparing at once do not build into one directory.
  const work = join(cacheDir, `${version}.tmp-${process.pid}`);
  const dest = join(cacheDir, version);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });

  log(`downloading linux-image-${version}`);
  // apt drops privileges to _apt for downloads; a root-only directory only costs a warning.
  run('apt-get', ['download', '-q', `linux-image-${version}`], { cwd: work });
  const deb = readdirSync(work).find((f) => f.endsWith('.deb'));
  if (!deb) throw new Error('apt-get download produced no .deb');
  const root = join(work, 'root');
  run('dpkg', ['-x', join(work, deb), root]);
  rmSync(join(work, deb));
  // The package's postinst would run depmod; mkinitramfs needs modules.dep.
  run('depmod', ['-b', root, version]);

  // A copy of the host's initramfs-tools configuration, changed only where the
  // guest needs it.
  const conf = join(work, 'conf');
  cpSync('/etc/initramfs-tools', conf, { recursive: true });
  let ic = readFileSync(join(conf, 'initramfs.conf'), 'utf8');
  // MODULES=list: only the modules named below and their dependencies; "most"
  // triples the image and its unpacking time under emulation. BUSYBOX=n keeps
  // the image the same whether or not the host has busybox.
  ic = ic.replace(/^MODULES=.*$/m, 'MODULES=list').replace(/^BUSYBOX=.*$/m, 'BUSYBOX=n');
  writeFileSync(join(conf, 'initramfs.conf'), ic);
  appendFileSync(join(conf, 'modules'), `\n${EXTRA_MODULES.join('\n')}\n`);
  mkdirSync(join(conf, 'hooks'), { recursive: true });
  writeFileSync(join(conf, 'hooks', 'zz-bpfkit-no-udev'), NO_UDEV_HOOK);
  chmodSync(join(conf, 'hooks', 'zz-bpfkit-no-udev'), 0o755);

  // mkinitramfs reads /lib/modules/VERSION and /boot/config-VERSION with no
  // way to point it elsewhere, so a private mount namespace lays the extracted
  // package over those two directories; the host never sees it.
  log('building initramfs');
  const initrd = join(work, 'initrd.img');
  const script = [
    'set -e',
    'mount --make-rprivate /',
    `mount -t overlay -o ro,lowerdir="${root}/lib":/usr/lib none /usr/lib`,
    `mount -t overlay -o ro,lowerdir="${root}/boot":/boot none /boot`,
    `mkinitramfs -d "${conf}" -o "${initrd}" "${version}"`,
  ].join('\n');
  run('unshare', ['-m', 'sh', '-c', script]);

  const vmlinux = extractVmlinux(join(root, 'boot', `vmlinuz-${version}`), join(work, 'vmlinux'));

  rmSync(dest, { recursive: true, force: true });
  renameSync(work, dest);
  return {
    recipe: RECIPE,
    series,
    version,
    kernel: vmlinux ? join(dest, 'vmlinux') : join(dest, 'root/boot', `vmlinuz-${version}`),
    initrd: join(dest, 'initrd.img'),
    config: join(dest, 'root/boot', `config-${version}`),
    // Module tree the guest can lay over /usr/lib if a test needs modprobe.
    modules: join(dest, 'root/lib'),
    built: new Date().toISOString(),
  };
}

// Under TCG the kernel's own xz decompressor takes about five seconds of every
// boot. Debian's kernel has CONFIG_PVH, so qemu can start the uncompressed ELF
// directly; it is unpacked once here. Returns false (boot the bzImage) when the
// payload is not the single xz stream expected.
function extractVmlinux(bzImage, out) {
  const img = readFileSync(bzImage);
  const at = img.indexOf(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]));
  if (at < 0) return false;
  const r = spawnSync('xz', ['-dc', '--single-stream'], { input: img.subarray(at), maxBuffer: 1 << 30 });
  const elf = r.stdout;
  if (r.status !== 0 || !elf || elf.length < 4 || elf.readUInt32BE(0) !== 0x7f454c46) {
    log('could not unpack vmlinux from the bzImage; booting the bzImage');
    return false;
  }
  writeFileSync(out, elf);
  return true;
}

/** Ensures the cache and returns its manifest: { version, kernel, initrd, config, modules }. */
export async function prepareGuest({ refresh = false, series = guestSeries } = {}) {
  if (process.getuid?.() !== 0) throw new Error('preparing the guest needs root (apt-get, mount namespaces)');
  const info = seriesInfo(series);
  ensureHostTools();
  const cached = readManifest(series);
  if (refresh) aptUpdate();
  let version = refresh || !cached ? newestKernel(series) : cached.version;
  if (cached && cached.version === version) return cached;
  mkdirSync(cacheDir, { recursive: true });
  let m;
  for (;;) {
    try {
      m = buildImage(version, series);
      break;
    } catch (e) {
      rmSync(join(cacheDir, `${version}.tmp-${process.pid}`), { recursive: true, force: true });
      // Package lists older than the mirror name a kernel it no longer has.
      if (aptUpdated) throw e;
      log(`${e.message.split('\n')[0]}; retrying with fresh package lists`);
      aptUpdate();
      version = newestKernel(series);
    }
  }
  const tmp = join(cacheDir, `${info.manifest}.tmp-${process.pid}`);
  writeFileSync(tmp, JSON.stringify(m, null, 2) + '\n');
  renameSync(tmp, join(cacheDir, info.manifest));
  // Older kernels left behind by --refresh.
  for (const f of readdirSync(cacheDir)) {
    const d = info.dir.exec(f);
    if (d && d[1] !== version) rmSync(join(cacheDir, f), { recursive: true, force: true });
  }
  log(`ready: ${version}`);
  return m;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const t0 = Date.now();
  try {
    const m = await prepareGuest({ refresh: process.argv.includes('--refresh') });
    console.log(JSON.stringify(m, null, 2));
    log(`took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  } catch (e) {
    log(`failed: ${e.message}`);
    process.exit(1);
  }
}
