// The launcher's V8 code cache (src/cli/launch.ts): written by the first run,
// once its first events are out or else at exit, reused unchanged by runs of
// a kind it has seen, rewritten (with the new kind's compiled functions) by a
// run of a kind it has not, and replaced when its stamp does not match. Tools
// keep a cache of their own. Runs a copy of the bundle in a directory of its
// own so the real dist/ cache is left alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('../../../', import.meta.url).pathname;

function setup(): string {
  // Inside the checkout, where the bundle finds koffi in node_modules.
  const dir = mkdtempSync(join(root, 'build', 'cache-test-'));
  mkdirSync(join(dir, 'bin'));
  mkdirSync(join(dir, 'dist'));
  for (const f of ['bin/bpfkit', 'bin/package.json', 'dist/cli.cjs']) copyFileSync(join(root, f), join(dir, f));
  return dir;
}

function run(dir: string, args: string[]): void {
  const r = spawnSync(process.execPath, [join(dir, 'bin/bpfkit'), ...args], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
}

const tagsOf = (file: string): string => readFileSync(file, 'latin1').split('\n')[1];

test('code cache: written once per kind of run, rewritten for a new kind or a stale stamp', () => {
  const dir = setup();
  const cache = join(dir, 'dist/cli.cjs.trace.v8cache');
  try {
    run(dir, ['--dry-run', '-e', 'BEGIN { printf("x\\n"); }']);
    assert.ok(existsSync(cache));
    assert.equal(tagsOf(cache), 'f:text p:begin trace');
    const first = statSync(cache).mtimeMs;
    const size = statSync(cache).size;

    run(dir, ['--dry-run', '-e', 'BEGIN { printf("y\\n"); }']);
    assert.equal(statSync(cache).mtimeMs, first, 'a run of a known kind must not rewrite the cache');

    run(dir, ['--dry-run', '-f', 'json', '-e', 'interval:s:1 { @ = count(); }']);
    assert.equal(tagsOf(cache), 'f:json f:text p:begin p:interval trace');
    assert.ok(statSync(cache).size > size, 'the new kind adds its functions');

    // Another Node or another bundle: the stamp differs, the file is replaced.
    writeFileSync(cache, Buffer.concat([Buffer.from('bpfkit-v8cache v0 x64 1 1\nf:text\n'), Buffer.alloc(64)]));
    run(dir, ['--dry-run', '-e', 'BEGIN { }']);
    assert.match(readFileSync(cache, 'latin1').split('\n')[0], new RegExp(`^bpfkit-v8cache ${process.version} `));
    assert.equal(tagsOf(cache), 'f:text p:begin trace');

    // A tool's run leaves the trace cache alone and writes its own.
    const before = statSync(cache).mtimeMs;
    run(dir, ['tools']);
    assert.ok(existsSync(join(dir, 'dist/cli.cjs.tool.v8cache')));
    assert.equal(statSync(cache).mtimeMs, before);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('code cache: the kind of a run is guessed from its arguments', async () => {
  const { cacheKind } = await import('../../src/cli/launch.js');
  assert.equal(cacheKind(['-e', 'tracepoint:syscalls:sys_enter_openat { @ = count(); }']), 'trace');
  assert.equal(cacheKind(['script.bt', '42']), 'trace');
  assert.equal(cacheKind(['-e', 'uprobe:/bin/bash:readline { @ = count(); }']), 'trace-user');
  assert.equal(cacheKind(['-e', 'BEGIN { } u:libc:malloc { @ = count(); }']), 'trace-user');
  assert.equal(cacheKind(['-e', 'usdt:/usr/bin/node:node:gc__start { }']), 'trace-user');
  assert.equal(cacheKind(['execsnoop', '-T']), 'tool');
  assert.equal(cacheKind(['-lv', 'uprobe:/bin/bash:*']), 'misc');
  assert.equal(cacheKind(['--info']), 'misc');
});

test('code cache: a tracing run writes it once its first events are out, not at exit', { skip: process.getuid?.() !== 0 && 'needs root' }, async () => {
  const dir = setup();
  const cache = join(dir, 'dist/cli.cjs.trace.v8cache');
  try {
    // BEGIN's record comes at once; the run then lasts until the interval fires.
    const child = spawn(process.execPath, [join(dir, 'bin/bpfkit'), '-e', 'BEGIN { printf("x\\n"); } interval:s:3 { exit(); }'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    let running = true;
    void exited.then(() => (running = false));
    while (running && !existsSync(cache)) await new Promise((r) => setTimeout(r, 20));
    assert.ok(running, 'the cache appeared only when the run ended');
    assert.equal(tagsOf(cache), 'f:text p:begin p:interval trace');
    assert.equal(await exited, 0);
    assert.match(out, /^Attaching 2 probes...\nx\n/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
