// Small C workloads are compiled once per test run into test/fixtures/bin, so
// tests drive the kernel with processes whose behaviour they know exactly.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const repoRoot = new URL('../../../', import.meta.url).pathname;
const srcDir = join(repoRoot, 'test/fixtures');
const binDir = join(repoRoot, 'test/fixtures/bin');

/**
 * Compiles test/fixtures/NAME.c (unless the binary is newer) and returns the
 * binary's path. `flags` go to gcc, e.g. ['-no-pie'] or ['-shared', '-fPIC'];
 * `out` names the result when one source builds several variants.
 */
export function compileC(name: string, flags: string[] = [], out = name): string {
  mkdirSync(binDir, { recursive: true });
  const src = join(srcDir, `${name}.c`);
  const bin = join(binDir, out);
  if (!existsSync(bin) || statSync(bin).mtimeMs < statSync(src).mtimeMs) {
    execFileSync('gcc', ['-O1', '-g', '-o', bin, src, ...flags], { stdio: 'inherit' });
  }
  return bin;
}

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}
