// Reads a program's maps into output snapshots: per-CPU partial values are
// merged here, hist/lhist buckets (one BPF key each) are regrouped per user key.
import { BpfMap, MapFlag, MapType } from '../bpf/map.js';
import { keyLayout, mapKeySize, mapParts, mapValueSize, isPerCpu, strBuckets, type MapInfo, type MapPart } from '../analysis/resources.js';
import type { MapSnapshot, Value } from '../output/value.js';
import { decode, readInt, type DecodeEnv } from './decode.js';

/** One BPF map behind a bpftrace map (several for string-bucketed keys, see strBuckets). */
export interface MapPartFd {
  part: MapPart;
  map: BpfMap;
}

export function createMaps(info: MapInfo, maxEntries: number): MapPartFd[] {
  const perCpu = isPerCpu(info);
  const parts = mapParts(info);
  const made: MapPartFd[] = [];
  try {
    for (const part of parts) {
      const suffix = part.strSize !== undefined && part.name !== info.name ? `_${part.strSize}` : '';
      made.push({
        part,
        map: BpfMap.create({
          type: perCpu ? MapType.PERCPU_HASH : MapType.HASH,
          name: `AT_${(info.name || '_').slice(0, 11 - suffix.length)}${suffix}`,
          keySize: part.keySize,
          valueSize: mapValueSize(info),
          maxEntries: info.agg === 'hist' || info.agg === 'lhist' ? maxEntries * 4 : maxEntries,
          // Preallocating every element took 2-5 ms per map at start-up (a
          // tool has several); since 6.1 the kernel allocates elements of
          // tracing programs' maps from per-CPU caches, safe in any context.
          flags: MapFlag.NO_PREALLOC,
        }),
      });
    }
  } catch (e) {
    for (const m of made) m.map.close();
    throw e;
  }
  return made;
}

/**
 * For a bucketed part (strBuckets): turns its keys into keyLayout's order
 * (hist/lhist index last, the string padded to its full size). Undefined when
 * the part's keys are already laid out so.
 */
function nominalKeys(info: MapInfo, part: MapPart): ((key: Buffer) => Buffer) | undefined {
  const sb = strBuckets(info);
  const strSize = part.strSize;
  if (!sb || strSize === undefined) return undefined;
  const size = mapKeySize(info);
  return (key) => {
    const out = Buffer.alloc(size);
    key.copy(out, 0, sb.base, sb.strOff);
    key.copy(out, sb.nominalOff, sb.strOff, sb.strOff + strSize);
    if (sb.base) key.copy(out, size - 8, 0, 8);
    return out;
  };
}

// The key layout is worked out once per map read, not once per entry (100k
// entries made it a visible part of printing a map).
const layouts = new WeakMap<MapInfo, ReturnType<typeof keyLayout>>();

function decodeKey(info: MapInfo, key: Buffer, env: DecodeEnv, at = 0): Value[] {
  if (!info.keys) return [];
  const l = layouts.get(info) ?? keyLayout(info);
  layouts.set(info, l);
  const out: Value[] = [];
  for (let i = 0; i < l.elems.length; i++) out.push(decode(key, at + l.offsets[i], l.elems[i], env));
  return out;
}

/** Sums (or min/maxes) the per-CPU slots of one value. */
function perCpuSlots(map: BpfMap, value: Buffer): Buffer[] {
  return map.perCpu ? map.splitPerCpu(value) : [value];
}

export function readMap(info: MapInfo, parts: MapPartFd[], env: DecodeEnv = {}): MapSnapshot {
  const name = `@${info.name}`;
  const signed = info.value.k === 'int' && info.value.signed;
  if (info.agg === 'count' || info.agg === 'sum') {
    // The common big map, read from packed batches in place: no Buffer per
    // entry or per CPU slot.
    const entries: { key: Value[]; value: bigint }[] = [];
    for (const { part, map } of parts) {
      const slots = map.perCpu ? map.ncpus : 1;
      const stride = map.valueStride;
      const nominal = nominalKeys(info, part);
      for (const b of map.dumpBatches()) {
        for (let i = 0; i < b.count; i++) {
          const at = i * map.fullValueSize;
          let total = 0n;
          for (let c = 0; c < slots; c++) total += signed ? b.values.readBigInt64LE(at + c * stride) : b.values.readBigUInt64LE(at + c * stride);
          const ko = i * map.keySize;
          const key = nominal ? decodeKey(info, nominal(b.keys.subarray(ko, ko + map.keySize)), env) : decodeKey(info, b.keys, env, ko);
          entries.push({ key, value: total });
        }
      }
    }
    // bpftrace 0.17 prints a keyless count() as 0 when never counted or cleared.
    if (info.agg === 'count' && info.keys === null && entries.length === 0) entries.push({ key: [], value: 0n });
    return { name, kind: info.agg, signed, entries };
  }
  const map = parts[0].map;
  const rows = parts.flatMap(({ part, map: m }) => {
    const nominal = nominalKeys(info, part);
    const dumped = m.dump();
    return nominal ? dumped.map(([k, v]): [Buffer, Buffer] => [nominal(k), v]) : dumped;
  });
  switch (info.agg) {
    case 'min':
    case 'max': {
      const entries: { key: Value[]; value: bigint }[] = [];
      for (const [k, v] of rows) {
        let best: bigint | undefined;
        for (const s of perCpuSlots(map, v)) {
          if (s.readBigUInt64LE(8) === 0n) continue;
          const x = readInt(s, 0, 8, signed);
          if (best === undefined || (info.agg === 'min' ? x < best : x > best)) best = x;
        }
        if (best !== undefined) entries.push({ key: decodeKey(info, k, env), value: best });
      }
      return { name, kind: info.agg, signed, entries };
    }
    case 'avg':
    case 'stats': {
      const entries = rows.map(([k, v]) => {
        let count = 0n;
        let total = 0n;
        for (const s of perCpuSlots(map, v)) {
          count += s.readBigUInt64LE(0);
          total += s.readBigInt64LE(8);
        }
        return { key: decodeKey(info, k, env), value: { count, total } };
      });
      return { name, kind: info.agg, signed: true, entries };
    }
    case 'hist':
    case 'lhist': {
      const groups = new Map<string, { key: Value[]; buckets: bigint[] }>();
      const userKeySize = mapKeySize(info) - 8;
      for (const [k, v] of rows) {
        const uk = k.subarray(0, userKeySize);
        const idx = Number(k.readBigUInt64LE(userKeySize));
        let total = 0n;
        for (const s of perCpuSlots(map, v)) total += s.readBigUInt64LE(0);
        const id = uk.toString('hex');
        let g = groups.get(id);
        if (!g) {
          g = { key: decodeKey(info, Buffer.from(uk), env), buckets: [] };
          groups.set(id, g);
        }
        while (g.buckets.length <= idx) g.buckets.push(0n);
        g.buckets[idx] += total;
      }
      const entries = [...groups.values()].map((g) => ({ key: g.key, value: g.buckets }));
      if (info.agg === 'hist') return { name, kind: 'hist', k: info.histK ?? 0, entries };
      const { min, max, step } = info.lhist!;
      const n = Number((max - min) / step) + 2;
      for (const e of entries) while (e.value.length < n) e.value.push(0n);
      return { name, kind: 'lhist', min: Number(min), max: Number(max), step: Number(step), entries };
    }
    default: {
      const entries = rows.map(([k, v]) => ({ key: decodeKey(info, k, env), value: decode(v, 0, info.value, env) }));
      return { name, kind: 'none', entries };
    }
  }
}

/** zero(): keeps the keys, resets the values. */
export function zeroMap(parts: MapPartFd[], info?: MapInfo): void {
  for (const { map } of parts) {
    const zero = Buffer.alloc(map.fullValueSize);
    // min()/max() values carry a "set" flag; bpftrace 0.17 prints a zeroed one as 0.
    if (info?.agg === 'min' || info?.agg === 'max') {
      for (let c = 0; c < (map.perCpu ? map.ncpus : 1); c++) zero.writeBigUInt64LE(1n, c * map.valueStride + 8);
    }
    for (const [k] of map.dump()) {
      try {
        map.update(k, zero);
      } catch {
        /* removed meanwhile */
      }
    }
  }
}

export function clearMap(parts: MapPartFd[]): void {
  for (const { map } of parts) map.clear();
}
