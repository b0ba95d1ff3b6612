// BTF reader costs. Start-up figures come from fresh child processes, since a
// warm process has the file, the JIT and the caches all hot and would hide
// exactly what a one-liner pays.
import { execFileSync } from 'node:child_process';
import { Btf } from '../src/btf/index.js';
import { median, type Row } from './lib/proc.js';

const btfUrl = new URL('../src/btf/index.js', import.meta.url).href;
const sysUrl = new URL('../src/bpf/sys.js', import.meta.url).href;

/** Runs `body` (ESM, `Btf` and `now()` in scope) in fresh processes; it prints a JSON object of timings. */
function child(body: string, runs = 7, preload = ''): Record<string, number>[] {
  const src = `${preload}
const { Btf } = await import(${JSON.stringify(btfUrl)});
const now = () => performance.now();
${body}`;
  const out: Record<string, number>[] = [];
  for (let i = 0; i < runs; i++) {
    out.push(JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', src], { encoding: 'utf8' })));
  }
  return out;
}

function med(rows: Record<string, number>[], key: string): number {
  return median(rows.map((r) => r[key]));
}

export async function run(): Promise<Row[]> {
  if (!Btf.available()) throw new Error('no /sys/kernel/btf/vmlinux');
  const rows: Row[] = [];

  // Lazy lookup by scanning (what findByName does first).
  const scan = child(`
const t0 = now(); const b = Btf.vmlinux(); const t1 = now();
b.findByName('task_struct', 'struct'); const t2 = now();
b.member(b.findByName('task_struct', 'struct'), 'pid'); const t3 = now();
console.log(JSON.stringify({ open: t1 - t0, find: t2 - t1, member: t3 - t2, total: t3 - t0 }));`);
  rows.push({ name: 'fresh process: open vmlinux (read + index pass)', value: med(scan, 'open'), unit: 'ms' });
  rows.push({ name: 'fresh process: find task_struct by scan', value: med(scan, 'find'), unit: 'ms' });
  rows.push({ name: 'fresh process: first member lookup (task_struct.pid)', value: med(scan, 'member'), unit: 'ms' });
  rows.push({ name: 'fresh process: open + find + member, total', value: med(scan, 'total'), unit: 'ms' });

  // The alternative: build the name -> ids map, then look up.
  const map = child(`
const b = Btf.vmlinux(); const t1 = now();
b.buildNameIndex(); b.findByName('task_struct', 'struct'); const t2 = now();
console.log(JSON.stringify({ find: t2 - t1 }));`);
  rows.push({ name: 'fresh process: find task_struct via name map (build + get)', value: med(map, 'find'), unit: 'ms' });

  // When koffi is already loaded (any run that loads programs), the file is mapped.
  const mapped = child(`
const t0 = now(); const b = Btf.vmlinux(); const t1 = now();
b.findByName('task_struct', 'struct'); const t2 = now();
console.log(JSON.stringify({ open: t1 - t0, total: t2 - t0 }));`, 7, `const sys = await import(${JSON.stringify(sysUrl)}); sys.geteuid();`);
  rows.push({ name: 'fresh process, koffi loaded: open vmlinux (mmap + index)', value: med(mapped, 'open'), unit: 'ms' });
  rows.push({ name: 'fresh process, koffi loaded: open + find task_struct', value: med(mapped, 'total'), unit: 'ms' });

  // Full decode of every type, in fresh processes too (the singleton here would be cached).
  const full = child(`
const b = Btf.fromFile('/sys/kernel/btf/vmlinux'); const t0 = now();
for (let id = 1; id <= b.lastId; id++) b.type(id);
const t1 = now();
console.log(JSON.stringify({ decode: t1 - t0, types: b.typeCount }));`, 5);
  rows.push({ name: `full parse: decode all ${full[0].types} types`, value: med(full, 'decode'), unit: 'ms' });

  // Warm, in this process: per-lookup costs once the JIT has settled.
  const b = Btf.fromFile('/sys/kernel/btf/vmlinux');
  const names = ['task_struct', 'mm_struct', 'file', 'sk_buff', 'inode', 'dentry', 'sock', 'cred'];
  for (const n of names) b.findByName(n, 'struct');
  const scanN = 200;
  const fresh = Btf.fromFile('/sys/kernel/btf/vmlinux');
  let t = performance.now();
  let k = 0;
  for (let i = 0; i < scanN; i++) k += fresh.scanByName(names[i % names.length]).length;
  rows.push({ name: 'warm: name lookup by scan', value: ((performance.now() - t) / scanN) * 1000, unit: 'us/op' });
  t = performance.now();
  fresh.buildNameIndex();
  rows.push({ name: 'warm: build name map', value: performance.now() - t, unit: 'ms' });
  const mapN = 100000;
  t = performance.now();
  for (let i = 0; i < mapN; i++) if (fresh.findByName(names[i % names.length], 'struct') !== undefined) k++;
  rows.push({ name: 'warm: name lookup by map', value: ((performance.now() - t) / mapN) * 1e6, unit: 'ns/op' });

  const ts = b.findByName('task_struct', 'struct')!;
  const members = ['pid', 'tgid', 'comm', 'mm', 'parent', 'cred', '__state', 'flags'];
  b.member(ts, 'pid');
  const memN = 1000000;
  t = performance.now();
  for (let i = 0; i < memN; i++) if (b.member(ts, members[i & 7])) k++;
  rows.push({ name: 'warm: member lookup (task_struct, cached)', value: ((performance.now() - t) / memN) * 1e6, unit: 'ns/op' });
  if (k === 0) throw new Error('lookups found nothing');
  return rows;
}
