// `bpfkit --info`: what the machine supports, in bpftrace --info's sections
// and wording so the two can be compared line by line. Lines bpftrace 0.17
// lacks (ringbuf, uprobe, hardware...) follow its style. Every answer comes
// from trying the feature (src/bpf/features.ts), not from version numbers.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { os } from '../lazy.js';
import { featureReport } from '../bpf/features.js';
import { tracefsPath } from '../probes/tracefs.js';

const yesNo = (v: boolean): string => (v ? 'yes' : 'no');

/** bpfkit's version from the package.json above this module (dist/ or build/src/cli/). */
export function bpfkitVersion(): string {
  let dir = import.meta.dirname;
  for (let i = 0; i < 5; i++) {
    const p = join(dir, 'package.json');
    if (existsSync(p)) {
      try {
        const pkg = JSON.parse(readFileSync(p, 'utf8')) as { name?: string; version?: string };
        if (pkg.name === 'bpfkit' && pkg.version) return pkg.version;
      } catch {
        // Not ours or unreadable: keep looking upwards.
      }
    }
    dir = dirname(dir);
  }
  return 'unknown';
}

function section(title: string, lines: [string, string | number | boolean][]): string {
  let s = `${title}\n`;
  for (const [k, v] of lines) s += `  ${k}: ${typeof v === 'boolean' ? yesNo(v) : v}\n`;
  return `${s}\n`;
}

/**
 * The report text. Mounts tracefs first when it is not mounted: tracepoint
 * support means tracepoints can be found, not only that programs load.
 */
export function infoText(): string {
  let tracefs: string | undefined;
  try {
    tracefs = tracefsPath();
  } catch {
    tracefs = undefined;
  }
  const f = featureReport();
  const probes = f.probes.map(([k, v]): [string, boolean] => (k === 'tracepoint' ? [k, v && tracefs !== undefined] : [k, v]));
  return (
    section('System', [['OS', `Linux ${os().release()} ${os().version()}`], ['Arch', os().machine()]])
    + section('Build', [
      ['version', `bpfkit v${bpfkitVersion()}`],
      ['code generator', 'built-in (BPF bytecode emitted directly, no LLVM)'],
      ['runtime', `Node.js ${process.version}`],
      ['BTF parser', 'built-in'],
      ['unsafe uprobe', false],
      ['bfd', false],
      ['libdw (DWARF support)', false],
    ])
    + section('Kernel helpers', f.helpers)
    + section('Kernel features', f.kernel)
    + section('Map types', f.maps)
    + section('Probe types', probes)
  );
}

/** Prints the report on stderr, where bpftrace prints it. */
export function runInfo(): number {
  process.stderr.write(infoText());
  return 0;
}
