// The classic tools built on uprobes: bash's readline() (an interactive
// bash on a pseudo-terminal), libc's resolver, and OpenSSL (a TLS session
// between openssl s_server and s_client on loopback).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRoot } from '../lib/fixtures.js';
import { freePort, heldReady, release, runTool, toolWorkload, TOOL_WL_COMM } from './tools-helpers.js';

const root = !isRoot() && 'needs root';
const have = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const dir = mkdtempSync(join(tmpdir(), 'bpfkit-uprobe-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('bashreadline: commands typed into an interactive bash', { skip: root || (!have('python3') && 'needs python3 for a pseudo-terminal') }, async () => {
  let bashPid = 0;
  const r = await runTool('bashreadline', [], {
    work: () =>
      new Promise<void>((resolve) => {
        // pty.spawn copies our stdin to the terminal bash reads with readline().
        const py = spawn('python3', ['-c', 'import pty; pty.spawn(["/bin/bash", "--norc", "--noprofile", "-i"])'], { stdio: ['pipe', 'pipe', 'inherit'] });
        let out = '';
        py.stdout.on('data', (d) => (out += d));
        py.stdin.end('echo "pid=$$"\necho hello_bpfkit\nexit\n');
        py.on('close', () => {
          bashPid = Number(/pid=(\d+)/.exec(out)?.[1] ?? 0);
          resolve();
        });
      }),
  });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.lines.slice(0, 2), ['Tracing bash commands... Hit Ctrl-C to end.', 'TIME      PID    COMMAND']);
  assert.ok(bashPid > 0);
  const mine = r.lines.filter((l) => l.slice(10, 16).trim() === String(bashPid));
  assert.deepEqual(mine.map((l) => l.slice(10)), ['echo "pid=$$"', 'echo hello_bpfkit', 'exit'].map((c) => `${String(bashPid).padEnd(6)} ${c}`));
  for (const l of mine) assert.match(l, /^\d\d:\d\d:\d\d {2}/);
});

test('gethostlatency: getaddrinfo() with its host and latency', { skip: root }, async () => {
  const w = await heldReady(toolWorkload(), ['resolve', 'localhost']);
  const r = await runTool('gethostlatency', [], { work: () => release(w) });
  assert.deepEqual(r.lines.slice(0, 2), ['Tracing getaddr/gethost calls... Hit Ctrl-C to end.', 'TIME      PID    COMM              LATms HOST']);
  const mine = r.lines.filter((l) => l.slice(10, 16).trim() === String(w.pid));
  assert.equal(mine.length, 1, r.stdout);
  assert.match(mine[0], new RegExp(`^\\d\\d:\\d\\d:\\d\\d  ${String(w.pid).padEnd(6)} ${TOOL_WL_COMM.padEnd(16)} {1,6}\\d+ localhost$`));
  assert.equal(mine[0].length, 10 + 7 + 17 + 7 + 'localhost'.length);
});

/** A TLS session on loopback: s_server answers one client, s_client sends a line. */
async function tlsSession(): Promise<void> {
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=bpfkit', '-keyout', key, '-out', cert, '-days', '1'], { stdio: 'ignore' });
  const port = await freePort();
  const server = spawn('openssl', ['s_server', '-accept', String(port), '-cert', cert, '-key', key, '-naccept', '1', '-quiet'], { stdio: ['ignore', 'ignore', 'ignore'] });
  const closed = new Promise((resolve) => server.on('close', resolve));
  await new Promise((r) => setTimeout(r, 500));
  await new Promise((resolve) => {
    const client = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-quiet'], { stdio: ['pipe', 'ignore', 'ignore'] });
    client.stdin.end('hello\n');
    client.on('close', resolve);
  });
  server.kill();
  await closed;
}

const ssl = root || (!have('openssl') && 'needs the openssl command');

test('sslsnoop: OpenSSL calls with latency, return value and function', { skip: ssl }, async () => {
  const r = await runTool('sslsnoop', [], { work: tlsSession, timeoutMs: 60000 });
  assert.deepEqual(r.lines.slice(0, 2), ['Tracing SSL/TLS handshake... Hit Ctrl-C to end.', 'TIME(us)   TID      COMM     LAT(us)   RET FUNC']);
  const mine = r.lines.filter((l) => / openssl /.test(l));
  assert.ok(mine.some((l) => l.endsWith(' SSL_write')), r.stdout);
  assert.ok(mine.some((l) => l.endsWith(' SSL_read')), r.stdout);
  for (const l of mine) assert.match(l, /^\d+ +\d+ +openssl +\d+ +-?\d+ (SSL_read|SSL_write|SSL_do_handshake|RSA_sign|RSA_verify|\w+)$/);
});

test('ssllatency: OpenSSL call latency per function, successes and failures apart', { skip: ssl }, async () => {
  const r = await runTool('ssllatency', [], { work: tlsSession, timeoutMs: 60000 });
  assert.equal(r.lines[0], 'Tracing SSL/TLS handshake... Hit Ctrl-C to end.');
  assert.match(r.stdout, /\nLatency distribution in microsecond:\n\n/);
  // Whether s_client's SSL_write of the line succeeds or returns 0 (it then
  // sent the data while finishing the handshake) varies with timing, also
  // without tracing; either way the call is in one of the two tables.
  assert.match(r.stdout, /\n@histF?\[SSL_write\]: \n\[(\d+, \d+|\d+, \.\.\.)\) +\d+ \|@+ *\|\n/);
  assert.match(r.stdout, /\n@statF?\[SSL_write\]: count \d+, average \d+, total \d+\n/);
  // The handshake's RSA signature succeeds every time.
  assert.match(r.stdout, /\n@stat\[RSA_sign\]: count 1, average \d+, total \d+\n/);
});
