// Kernel bytes -> output Values, driven by the compiler's types. Everything the
// kernel sends (event arguments, map keys and values) goes through here.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import type { Ty } from '../analysis/types.js';
import * as V from '../output/value.js';
import type { Value } from '../output/value.js';

let clockOffsetNs: bigint | undefined;
/** CLOCK_REALTIME - CLOCK_MONOTONIC, to turn nsecs into wall-clock time for strftime. */
export function monoToEpochOffset(): bigint {
  if (clockOffsetNs === undefined) {
    const mono = process.hrtime.bigint();
    clockOffsetNs = BigInt(Date.now()) * 1_000_000n - mono;
  }
  return clockOffsetNs;
}

let users: Map<number, string> | undefined;
export function userName(uid: number): string {
  if (!users) {
    users = new Map();
    try {
      for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
        const f = line.split(':');
        if (f.length > 2) users.set(Number(f[2]), f[0]);
      }
    } catch {
      /* no passwd: fall back to numbers */
    }
  }
  return users.get(uid) ?? String(uid);
}

export function readInt(buf: Buffer, off: number, size: number, signed: boolean): bigint {
  switch (size) {
    case 1:
      return BigInt(signed ? buf.readInt8(off) : buf.readUInt8(off));
    case 2:
      return BigInt(signed ? buf.readInt16LE(off) : buf.readUInt16LE(off));
    case 4:
      return BigInt(signed ? buf.readInt32LE(off) : buf.readUInt32LE(off));
    default:
      return signed ? buf.readBigInt64LE(off) : buf.readBigUInt64LE(off);
  }
}

export function cString(buf: Buffer, off: number, size: number): string {
  const end = Math.min(buf.length, off + size);
  let nul = buf.indexOf(0, off);
  if (nul < 0 || nul > end) nul = end;
  return buf.toString('utf8', off, nul);
}

const cgroupPaths = new Map<bigint, string>();
/**
 * bpftrace's cgroup_path(): in every mounted cgroup hierarchy, the directory
 * whose inode is the cgroup id, as `name:path` joined by commas (unified
 * first, then the v1 hierarchies by name).
 */
export function cgroupPathOf(id: bigint): string {
  const hit = cgroupPaths.get(id);
  if (hit !== undefined) return hit;
  const roots: { name: string; dir: string }[] = [];
  try {
    for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
      const [pre, post] = line.split(' - ');
      if (!post) continue;
      const [fstype, , opts = ''] = post.split(' ');
      const dir = pre.split(' ')[4];
      if (fstype === 'cgroup2') roots.push({ name: 'unified', dir });
      else if (fstype === 'cgroup') {
        const flags = new Set(['rw', 'ro', 'clone_children', 'noprefix', 'xattr', 'cpuset_v2_mode', 'favordynmods']);
        const names = opts.split(',').filter((o) => (!flags.has(o) && !o.includes('=')) || o.startsWith('name='));
        roots.push({ name: names.map((n) => n.replace(/^name=/, '')).join(','), dir });
      }
    }
  } catch {
    /* no mountinfo: fall back to the number */
  }
  roots.sort((a, b) => (a.name === 'unified' ? -1 : b.name === 'unified' ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const find = (dir: string, rel: string, depth: number): string | undefined => {
    try {
      if (statSync(dir, { bigint: true }).ino === id) return rel || '/';
      if (depth > 32) return undefined;
      for (const d of readdirSync(dir, { withFileTypes: true })) {
        if (!d.isDirectory()) continue;
        const r = find(`${dir}/${d.name}`, `${rel}/${d.name}`, depth + 1);
        if (r) return r;
      }
    } catch {
      /* vanished or unreadable: not here */
    }
    return undefined;
  };
  const parts: string[] = [];
  for (const r of roots) {
    const p = find(r.dir, '', 0);
    if (p) parts.push(`${r.name}:${p}`);
  }
  const text = parts.length ? parts.join(',') : String(id);
  cgroupPaths.set(id, text);
  return text;
}

export interface DecodeEnv {
  cgroupPath?: (id: bigint) => string;
  /** Reads a recorded stack's frames. */
  stack?: (kernel: boolean, id: bigint, pid: number, t: Ty & { k: 'stack' }) => Value;
}

export function decode(buf: Buffer, off: number, t: Ty, env: DecodeEnv = {}): Value {
  switch (t.k) {
    case 'int': {
      const raw = readInt(buf, off, t.size, t.signed);
      switch (t.fmt) {
        case 'ksym':
          return V.ksym(BigInt.asUintN(64, raw));
        case 'timestamp':
          return V.timestamp(t.strftime ?? '%H:%M:%S', raw + monoToEpochOffset());
        case 'username':
          return V.username(userName(Number(raw)));
        case 'bool':
          return V.bool(raw !== 0n);
        case 'errno':
          return V.strerrorValue(Number(raw));
        default:
          return { kind: 'int', value: raw, bits: (t.size * 8) as V.IntBits, signed: t.signed };
      }
    }
    case 'str':
      return V.str(cString(buf, off, t.size));
    case 'buf': {
      const n = Number(buf.readBigUInt64LE(off));
      return V.buf(buf.subarray(off + 8, off + 8 + Math.min(n, t.size - 8)));
    }
    case 'tuple':
      return V.tuple(...t.elems.map((e, i) => decode(buf, off + t.offsets[i], e, env)));
    case 'record': {
      const ms = t.ctype.members?.() ?? [];
      return V.record(ms.map((m) => {
        const mt = m.type;
        let v: Value;
        if ((mt.kind === 'int' || mt.kind === 'enum') && m.bitSize) {
          // A bitfield: its bits of the aligned word at m.offset.
          const size = Math.min(8, mt.size || 8);
          const word = readInt(buf, off + m.offset, size, false);
          const value = (word >> BigInt(m.bitOffset ?? 0)) & ((1n << BigInt(m.bitSize)) - 1n);
          v = { kind: 'int', value, bits: (size * 8) as V.IntBits, signed: false };
        } else if (mt.kind === 'int' || mt.kind === 'enum') v = { kind: 'int', value: readInt(buf, off + m.offset, Math.min(8, mt.size || 8), mt.signed ?? false), bits: (Math.min(8, mt.size || 8) * 8) as V.IntBits, signed: mt.signed ?? false };
        else if (mt.kind === 'array' && mt.target?.().size === 1) v = V.str(cString(buf, off + m.offset, mt.size));
        else if (mt.kind === 'ptr') v = V.ptr(buf.readBigUInt64LE(off + m.offset));
        else v = V.none();
        return [m.name, v] as [string, Value];
      }));
    }
    case 'array':
      return V.array(Array.from({ length: t.len }, (_, i) => decode(buf, off + i * t.elem.size, t.elem, env)));
    case 'ptr':
      return V.ptr(buf.readBigUInt64LE(off));
    case 'ctx':
      return V.uint(buf.readBigUInt64LE(off));
    case 'inet': {
      const af = Number(buf.readBigUInt64LE(off));
      return V.inet(buf.subarray(off + 8, off + 8 + (af === 10 ? 16 : 4)));
    }
    case 'macaddr':
      return V.mac(buf.subarray(off, off + 6));
    case 'usym':
      return V.usym(buf.readBigUInt64LE(off), undefined, Number(buf.readBigUInt64LE(off + 8)));
    case 'cgroup_path': {
      const id = buf.readBigUInt64LE(off);
      return V.cgroupPath(env.cgroupPath ? env.cgroupPath(id) : cgroupPathOf(id));
    }
    case 'stack': {
      const id = buf.readBigInt64LE(off);
      const pid = Number(buf.readBigUInt64LE(off + 8));
      return env.stack ? env.stack(t.kernel, id, pid, t) : V.stack(!t.kernel, [], t.mode);
    }
    case 'none':
      return V.none();
  }
}
