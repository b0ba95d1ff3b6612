// Re-captures what Debian's bpftrace 0.17 prints for each NAME.bt here:
// NAME.txt (text stdout) and NAME.json (`-f json` stdout). Needs root.
// Usage: node test/golden/output/capture.mjs [name...]
// Cases whose output depends on the run (stack addresses) are not re-captured
// unless named, so their hand-built values in the tests stay in step.
import { readdirSync, writeFileSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const dir = new URL('.', import.meta.url).pathname;
const named = process.argv.slice(2);
const names = named.length ? named : readdirSync(dir).filter((f) => f.endsWith('.bt')).map((f) => f.slice(0, -3));
for (const name of names.sort()) {
  const bt = join(dir, `${name}.bt`);
  if (!named.length && existsSync(join(dir, `${name}.volatile`))) continue;
  for (const [ext, extra] of [['txt', []], ['json', ['-f', 'json']]]) {
    const r = spawnSync('bpftrace', [...extra, bt], { timeout: 20000, env: { ...process.env, TZ: 'UTC' } });
    if (r.status !== 0) console.error(`${name}.${ext}: exit ${r.status}\n${r.stderr}`);
    writeFileSync(join(dir, `${name}.${ext}`), r.stdout);
  }
  console.log(name);
}
