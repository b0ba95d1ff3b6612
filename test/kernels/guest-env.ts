// Where the tests in this folder are: only Debian's 6.1 guest (booted by
// test/kernels/run-guest.mjs) has the kprobes and fentry they need, so
// anywhere else they skip and say how to run them.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';

export const repoRoot = new URL('../../../', import.meta.url).pathname;

/**
 * The kernel series of the guest this runs in ('6.1', or '6.12' when the
 * runner was started with BPFKIT_GUEST_KERNEL=6.12), or undefined outside one.
 */
export const guestKernel: string | undefined = process.env.BPFKIT_GUEST && release().startsWith(`${process.env.BPFKIT_GUEST}.`) ? process.env.BPFKIT_GUEST : undefined;

/** True inside a guest the runner boots (it sets BPFKIT_GUEST to the series). */
export const inGuest = guestKernel !== undefined;

/** Where the guest kernel's modules are (.../lib/modules/VERSION), for insmod by path; the runner passes it. */
export const guestModules = process.env.BPFKIT_GUEST_MODULES;

/** A node:test `skip` value: false in the guest, the reason elsewhere. */
export const guestOnly: false | string = inGuest
  ? false
  : `needs the test guest's kernel (Debian 6.1, or 6.12 with BPFKIT_GUEST_KERNEL=6.12: kprobes, fentry): run \`npm run test:kernel-6.1\` (this is Linux ${release()})`;

/** A `skip` value for tests of Debian's 6.1 kernel only (they check what that build has and lacks). */
export const guest61Only: false | string = guestOnly || (guestKernel === '6.1' ? false : `checks Debian 6.1's build; this guest runs ${guestKernel}`);

/** The results share the guest's init mounted; the runner puts host-side facts there. */
export const guestShare = process.env.BPFKIT_GUEST_SHARE ?? '/run/bpfkit';

const srcDir = join(repoRoot, 'test/kernels/fixtures');
// build/ rather than next to the sources: it is ignored by git, and the guest
// sees the checkout read-only, so binaries must be made on the host first.
export const fixtureBinDir = join(repoRoot, 'build/kernels-fixtures');

/**
 * Path of test/kernels/fixtures/NAME.c compiled. Compiles it (on the host)
 * when missing or older than its source; in the guest it must already exist.
 */
export function kernelFixture(name: string): string {
  const src = join(srcDir, `${name}.c`);
  const bin = join(fixtureBinDir, name);
  if (!existsSync(bin) || statSync(bin).mtimeMs < statSync(src).mtimeMs) {
    if (inGuest) throw new Error(`${bin} is missing or stale; the runner compiles fixtures on the host before booting`);
    mkdirSync(fixtureBinDir, { recursive: true });
    execFileSync('gcc', ['-O1', '-g', '-o', bin, src], { stdio: 'inherit' });
  }
  return bin;
}
