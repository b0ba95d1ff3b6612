// The classic TCP tools against loopback connections the workload makes:
// it listens on a free port, connects (printing its client port), accepts,
// moves known byte counts, resets, or overfills a listen backlog.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isRoot } from '../lib/fixtures.js';
import { freePort, heldReady, release, runTool, toolWorkload, TOOL_WL_COMM } from './tools-helpers.js';

const root = !isRoot() && 'needs root';
const pad = (v: unknown, n: number) => String(v).padEnd(n);
const lpad = (v: unknown, n: number) => String(v).padStart(n);

/** Runs the workload under the tool; returns the tool's run and the client ports the workload used. */
async function netRun(tool: string, actions: string[], opts: { settleMs?: number } = {}) {
  const w = await heldReady(toolWorkload(), actions);
  let cports: number[] = [];
  const r = await runTool(tool, [], {
    settleMs: opts.settleMs,
    work: async () => {
      const out = await release(w);
      cports = [...out.stdout.matchAll(/^cport (\d+)$/gm)].map((m) => Number(m[1]));
    },
  });
  assert.equal(r.code, 0, r.stderr);
  return { r, pid: w.pid, cports };
}

test('tcpaccept: accept() and accept4() with both ends and the backlog', { skip: root }, async () => {
  const [p1, p2] = [await freePort(), await freePort()];
  const { r, pid, cports } = await netRun('tcpaccept', ['tcp', String(p1), '100', '100', 'accept4', String(p2)]);
  assert.deepEqual(r.lines.slice(0, 2), [
    'Tracing TCP accepts. Hit Ctrl-C to end.',
    'TIME     PID    COMM           RADDR                                   RPORT LADDR                                   LPORT BL',
  ]);
  const mine = r.lines.filter((l) => / bpfkit_tl /.test(l) && l.includes(` ${pid} `));
  assert.deepEqual(mine.map((l) => l.slice(9)), [
    `${pad(pid, 6)} ${pad(TOOL_WL_COMM, 14)} ${pad('127.0.0.1', 39)} ${pad(cports[0], 5)} ${pad('127.0.0.1', 39)} ${pad(p1, 5)} 0/16`,
    `${pad(pid, 6)} ${pad(TOOL_WL_COMM, 14)} ${pad('127.0.0.1', 39)} ${pad(cports[1], 5)} ${pad('127.0.0.1', 39)} ${pad(p2, 5)} 0/16`,
  ]);
  for (const l of mine) assert.match(l, /^\d\d:\d\d:\d\d /);
});

test('tcpconnect: connect()s with the connecting process and both ends', { skip: root }, async () => {
  const p = await freePort();
  const { r, pid, cports } = await netRun('tcpconnect', ['tcp', String(p), '100', '100']);
  assert.deepEqual(r.lines.slice(0, 2), [
    'Tracing tcp connections. Hit Ctrl-C to end.',
    'TIME     PID      COMM             SADDR                                   SPORT  DADDR                                   DPORT ',
  ]);
  const mine = r.lines.filter((l) => l.slice(9, 17).trim() === String(pid));
  assert.deepEqual(mine.map((l) => l.slice(9)), [`${pad(pid, 8)} ${pad(TOOL_WL_COMM, 16)} ${pad('127.0.0.1', 39)} ${pad(cports[0], 6)} ${pad('127.0.0.1', 39)} ${pad(p, 6)}`]);
  assert.match(mine[0], /^\d\d:\d\d:\d\d /);
});

test('tcplife: both ends of a session with bytes moved and duration', { skip: root }, async () => {
  const p = await freePort();
  const { r, pid, cports } = await netRun('tcplife', ['tcp', String(p), '300000', '200000']);
  assert.equal(r.lines[0], 'PID   COMM       LADDR           LPORT RADDR           RPORT TX_KB RX_KB MS');
  const mine = r.lines.filter((l) => l.startsWith(`${pad(pid, 5)} `));
  const cut = (l: string) => l.replace(/ \d+$/, ' MS');
  assert.deepEqual(mine.map(cut).sort(), [
    `${pad(pid, 5)} ${pad(TOOL_WL_COMM, 10)} ${pad('127.0.0.1', 15)} ${pad(cports[0], 5)} ${pad('127.0.0.1', 15)} ${pad(p, 6)} ${lpad(292, 5)} ${lpad(195, 5)} MS`,
    `${pad(pid, 5)} ${pad(TOOL_WL_COMM, 10)} ${pad('127.0.0.1', 15)} ${pad(p, 5)} ${pad('127.0.0.1', 15)} ${pad(cports[0], 6)} ${lpad(195, 5)} ${lpad(292, 5)} MS`,
  ].sort());
});

test('tcpretrans: a SYN retransmitted after the listen backlog dropped it', { skip: root }, async () => {
  const p = await freePort();
  const { r, cports } = await netRun('tcpretrans', ['synfull', String(p)]);
  assert.deepEqual(r.lines.slice(0, 2), ['Tracing tcp retransmits. Hit Ctrl-C to end.', 'TIME     PID               LADDR:LPORT           RADDR:RPORT  STATE']);
  const mine = r.lines.filter((l) => l.includes(`127.0.0.1:${pad(cports[1], 6)}`));
  assert.ok(mine.length >= 1, r.stdout);
  assert.match(mine[0], new RegExp(`^\\d\\d:\\d\\d:\\d\\d \\d+ +${lpad('127.0.0.1', 14)}:${pad(cports[1], 6)} ${lpad('127.0.0.1', 14)}:${pad(p, 6)} SYN_SENT$`));
});

test('tcpsynbl: the backlog each new connection found, per backlog limit', { skip: root }, async () => {
  const [p1, p2] = [await freePort(), await freePort()];
  const { r } = await netRun('tcpsynbl', ['tcp', String(p1), '10', '10', 'synfull', String(p2)]);
  assert.equal(r.lines[0], 'Tracing SYN backlog size. Ctrl-C to end.');
  assert.match(r.stdout, /\n@backlog\[backlog limit\]: histogram of backlog size\n/);
  // listen(16) for "tcp", listen(0) for "synfull": each saw an empty queue once at least.
  for (const limit of [16, 0]) assert.match(r.stdout, new RegExp(`\\n@backlog\\[${limit}\\]: \\n\\[0\\] +\\d+ \\|@+ *\\|\\n`), r.stdout);
});

test('tcpdrop: dropped segments of a reset connection, with addresses, state and stack', { skip: root }, async () => {
  const [p1, p2] = [await freePort(), await freePort()];
  const { r } = await netRun('tcpdrop', ['tcpreset', String(p1), 'tcp', String(p2), '1000', '1000']);
  assert.deepEqual(r.lines.slice(0, 2), [
    'Tracing tcp drops. Hit Ctrl-C to end.',
    'TIME     PID      COMM             SADDR:SPORT           DADDR:DPORT           STATE   ',
  ]);
  const head = new RegExp(`^\\d\\d:\\d\\d:\\d\\d \\d+ +\\S+ +${lpad('127.0.0.1', 39)}:\\d+ +${lpad('127.0.0.1', 39)}:\\d+ +[A-Z_0-9]+ *$`);
  const drops = r.lines.map((l, i) => ({ l, i })).filter(({ l }) => head.test(l) && (l.includes(`:${p1} `) || l.includes(`:${p2} `)));
  assert.ok(drops.length > 0, r.stdout);
  // The kernel stack follows each line, one indented frame per line.
  for (const { i } of drops) assert.match(r.lines[i + 1] === '' ? r.lines[i + 2] : r.lines[i + 1], /^\s+\S+\+\d+$/);
});
