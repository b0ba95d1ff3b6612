// Time zone abbreviations for strftime's %Z. Offsets and calendar fields come
// from the JS Date (Node follows $TZ), but ICU names zones differently from
// libc ("GMT+1" where glibc says "CET"), so the abbreviation is read from the
// same TZif file glibc would load, or from a POSIX $TZ string.
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';

interface Zone {
  transitions: number[]; // seconds since the epoch, ascending
  typeOfTransition: number[];
  types: { offset: number; isDst: boolean; abbr: string }[];
  footer?: PosixNames;
}
interface PosixNames { std: string; stdOffset: number; dst?: string }

const cache = new Map<string, Zone | PosixNames | null>();

function currentZone(): Zone | PosixNames | null {
  const tz = process.env.TZ;
  const key = tz === undefined ? '\0' : tz;
  let zone = cache.get(key);
  if (zone === undefined) {
    zone = loadZone(tz);
    cache.set(key, zone);
  }
  return zone;
}

/**
 * A $TZ that is a POSIX rule without daylight time and names no zone file
 * ("<+03>-3", "XYZ-3", "UTC0"): its fixed offset and name. ICU, behind Date,
 * does not read all of these, so local time is computed from this instead.
 */
export function fixedZone(): { offset: number; name: string } | undefined {
  const zone = currentZone();
  if (zone === null) return { offset: 0, name: 'UTC' };
  if ('std' in zone && zone.dst === undefined) return { offset: zone.stdOffset, name: zone.std };
  return undefined;
}

/** The zone abbreviation libc would print for this instant in the local zone. */
export function zoneAbbreviation(epochSec: number, utcOffsetSec: number): string {
  const zone = currentZone();
  if (zone === null) return 'UTC';
  if ('std' in zone) return pickPosix(zone, utcOffsetSec);
  const { transitions, types } = zone;
  if (transitions.length === 0 || epochSec < transitions[0]) {
    if (transitions.length === 0 && zone.footer) return pickPosix(zone.footer, utcOffsetSec);
    return (types.find((t) => !t.isDst) ?? types[0])?.abbr ?? 'UTC';
  }
  if (epochSec >= transitions[transitions.length - 1] && zone.footer) {
    return pickPosix(zone.footer, utcOffsetSec);
  }
  let lo = 0, hi = transitions.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (transitions[mid] <= epochSec) lo = mid;
    else hi = mid - 1;
  }
  return types[zone.typeOfTransition[lo]]?.abbr ?? 'UTC';
}

function pickPosix(p: PosixNames, utcOffsetSec: number): string {
  return p.dst !== undefined && utcOffsetSec !== p.stdOffset ? p.dst : p.std;
}

function loadZone(tz: string | undefined): Zone | PosixNames | null {
  if (tz === '') return null;
  let name = tz === undefined ? '/etc/localtime' : tz.startsWith(':') ? tz.slice(1) : tz;
  if (!isAbsolute(name)) name = join(process.env.TZDIR || '/usr/share/zoneinfo', name);
  try {
    const zone = parseTzif(readFileSync(name));
    if (zone) return zone;
  } catch {
    // Not a file: glibc then reads $TZ as a POSIX rule such as "EST5EDT".
  }
  return tz ? parsePosixNames(tz) : null;
}

function parseTzif(data: Buffer): Zone | null {
  if (data.length < 44 || data.toString('latin1', 0, 4) !== 'TZif') return null;
  const version = data[4];
  const counts = (at: number) => ({
    isut: data.readUInt32BE(at + 20), isstd: data.readUInt32BE(at + 24), leap: data.readUInt32BE(at + 28),
    time: data.readUInt32BE(at + 32), type: data.readUInt32BE(at + 36), char: data.readUInt32BE(at + 40),
  });
  let at = 0;
  let c = counts(at);
  let timeSize = 4;
  if (version >= 0x32) {
    // Skip the 32-bit block; the 64-bit one after it covers every date.
    at = 44 + c.time * 5 + c.type * 6 + c.char + c.leap * 8 + c.isstd + c.isut;
    c = counts(at);
    timeSize = 8;
  }
  let p = at + 44;
  const transitions: number[] = [];
  for (let i = 0; i < c.time; i++, p += timeSize) {
    transitions.push(timeSize === 8 ? Number(data.readBigInt64BE(p)) : data.readInt32BE(p));
  }
  const typeOfTransition = Array.from(data.subarray(p, p + c.time));
  p += c.time;
  const rawTypes: { offset: number; isDst: boolean; abbrIndex: number }[] = [];
  for (let i = 0; i < c.type; i++, p += 6) {
    rawTypes.push({ offset: data.readInt32BE(p), isDst: data[p + 4] !== 0, abbrIndex: data[p + 5] });
  }
  const chars = data.subarray(p, p + c.char);
  p += c.char + c.leap * (timeSize + 4) + c.isstd + c.isut;
  const types = rawTypes.map((t) => {
    const end = chars.indexOf(0, t.abbrIndex);
    return { offset: t.offset, isDst: t.isDst, abbr: chars.toString('latin1', t.abbrIndex, end < 0 ? chars.length : end) };
  });
  let footer: PosixNames | undefined;
  if (timeSize === 8 && data[p] === 0x0a) {
    const end = data.indexOf(0x0a, p + 1);
    footer = parsePosixNames(data.toString('latin1', p + 1, end < 0 ? data.length : end)) ?? undefined;
  }
  return { transitions, typeOfTransition, types, footer };
}

/** The std/dst names and std offset of a POSIX TZ rule ("CET-1CEST,M3.5.0,..."). */
function parsePosixNames(rule: string): PosixNames | null {
  const m = /^(<[^>]*>|[A-Za-z]{3,})([+-]?\d{1,2}(?::\d{1,2}(?::\d{1,2})?)?)?(<[^>]*>|[A-Za-z]{3,})?/.exec(rule);
  if (!m) return null;
  // glibc takes a name without an offset ("Foo/Bar" -> "Foo") as UTC.
  if (m[2] === undefined) return { std: m[1], stdOffset: 0 };
  const strip = (s: string) => (s.startsWith('<') ? s.slice(1, -1) : s);
  const [h, mi = '0', s = '0'] = m[2].replace(/^[+-]/, '').split(':');
  const west = (Number(h) * 3600 + Number(mi) * 60 + Number(s)) * (m[2].startsWith('-') ? -1 : 1);
  return { std: strip(m[1]), stdOffset: -west, dst: m[3] ? strip(m[3]) : undefined };
}
