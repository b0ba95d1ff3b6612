// Re-captures what Debian's bpftrace 0.17 prints for each NAME.bt here, run
// as `bpftrace -e "<file text>"` (so locations read "stdin") with TZ=UTC:
// NAME.txt (stdout), NAME.json (stdout with -f json) and NAME.err (stderr,
// when there is any). A first line "// flags: ..." adds bpftrace options.
// Needs root. Usage: node test/golden/output/capture.mjs [name...]
// Cases with a NAME.volatile marker (addresses, boot time) are only
// re-captured when named, since their tests mirror one particular run.
import { readdirSync, readFileSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const dir = new URL('.', import.meta.url).pathname;
const named = process.argv.slice(2);
const names = named.length ? named : readdirSync(dir).filter((f) => f.endsWith('.bt')).map((f) => f.slice(0, -3));
for (const name of names.sort()) {
  if (!named.length && existsSync(join(dir, `${name}.volatile`))) continue;
  const program = readFileSync(join(dir, `${name}.bt`), 'utf8');
  const flags = /^\/\/ flags: (.*)$/m.exec(program)?.[1].split(' ') ?? [];
  let err = '';
  for (const [ext, extra] of [['txt', []], ['json', ['-f', 'json']]]) {
    const r = spawnSync('bpftrace', [...flags, ...extra, '-e', program], { timeout: 20000, env: { ...process.env, TZ: 'UTC' } });
    writeFileSync(join(dir, `${name}.${ext}`), r.stdout);
    // This machine's memlock warning is not part of any program's output.
    if (ext === 'txt') err = r.stderr.toString('latin1').split('\n').filter((l) => !l.includes('RLIMIT_MEMLOCK')).join('\n');
  }
  if (err.trim()) writeFileSync(join(dir, `${name}.err`), Buffer.from(err, 'latin1'));
  else rmSync(join(dir, `${name}.err`), { force: true });
  console.log(name);
}
