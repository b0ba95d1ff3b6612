// npm run bench: runs every build/bench/*.bench.js in turn. Each exports
// `run()` returning rows {name, value, unit, ref?} where ref is bpftrace's
// figure for the same measurement when it is installed; the ratio is printed.
import { readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const dir = join(root, 'build/bench');
const only = process.argv.slice(2);
const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.bench.js')).sort() : [];
for (const f of files) {
  if (only.length && !only.some((s) => f.includes(s))) continue;
  const mod = await import(join(dir, f));
  console.log(`# ${f.replace('.bench.js', '')}`);
  try {
    const rows = await mod.run();
    for (const r of rows) {
      const v = typeof r.value === 'number' ? +r.value.toPrecision(4) : r.value;
      let line = `${r.name.padEnd(56)} ${String(v).padStart(12)} ${r.unit}`;
      if (typeof r.ref === 'number' && r.ref > 0) line += `   bpftrace ${+r.ref.toPrecision(4)} ${r.unit}   ratio ${(r.value / r.ref).toFixed(2)}x`;
      console.log(line);
    }
  } catch (e) {
    console.log(`  failed: ${e instanceof Error ? e.message : e}`);
  }
}
