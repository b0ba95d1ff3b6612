// C strftime() in the C locale with glibc's flags (_ - 0 ^ #) and widths, in
// the local zone ($TZ, as libc's localtime() would use), plus bpftrace's %f
// (microseconds) for strftime(). Unknown conversions are copied through, as
// glibc does.
import { fixedZone, zoneAbbreviation } from './tz.js';

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** Broken-down local time, like struct tm. */
export interface Tm {
  year: number; mon: number; mday: number; hour: number; min: number; sec: number;
  wday: number; yday: number; utcOffset: number; zone: string; epochSec: number;
}

export function localTime(epochSec: number): Tm {
  const fixed = fixedZone();
  if (fixed) {
    const u = new Date((epochSec + fixed.offset) * 1000);
    const year = u.getUTCFullYear();
    return {
      year, mon: u.getUTCMonth(), mday: u.getUTCDate(), hour: u.getUTCHours(), min: u.getUTCMinutes(), sec: u.getUTCSeconds(),
      wday: u.getUTCDay(), yday: Math.round((Date.UTC(year, u.getUTCMonth(), u.getUTCDate()) - Date.UTC(year, 0, 1)) / 86400000),
      utcOffset: fixed.offset, zone: fixed.name, epochSec,
    };
  }
  const d = new Date(epochSec * 1000);
  const year = d.getFullYear();
  const yday = Math.round((Date.UTC(year, d.getMonth(), d.getDate()) - Date.UTC(year, 0, 1)) / 86400000);
  const utcOffset = -d.getTimezoneOffset() * 60;
  return {
    year, mon: d.getMonth(), mday: d.getDate(), hour: d.getHours(), min: d.getMinutes(), sec: d.getSeconds(),
    wday: d.getDay(), yday, utcOffset, zone: zoneAbbreviation(epochSec, utcOffset), epochSec,
  };
}

export interface StrftimeOptions {
  /** Replace %f with zero-padded microseconds first (bpftrace's strftime() does, time() does not). */
  micros?: boolean;
  /** libc's buffer: results of this many bytes or more fail; 0.17 uses 64. */
  bufferSize?: number;
}

/**
 * Formats wall-clock nanoseconds since the epoch. Returns undefined where
 * bpftrace reports "strftime returned 0" (an empty result or one that does
 * not fit the buffer); bpftrace then prints "(?)" for strftime() values and
 * nothing for time().
 */
export function formatStrftime(fmt: string, epochNs: bigint, opts: StrftimeOptions = {}): string | undefined {
  const sec = epochNs >= 0n ? epochNs / 1_000_000_000n : -((-epochNs + 999_999_999n) / 1_000_000_000n);
  if (opts.micros) {
    const us = ((epochNs % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n / 1000n;
    fmt = fmt.replaceAll('%f', us.toString().padStart(6, '0'));
  }
  const out = strftime(fmt, localTime(Number(sec)));
  const limit = opts.bufferSize ?? 64;
  if (out.length === 0 || Buffer.byteLength(out) >= limit) return undefined;
  return out;
}

// glibc pads a negative number in front of its sign ("%010s" of -1 is "00000000-1").
const pad = (n: number, width: number, ch: string) => String(n).padStart(width, ch);

function isoWeek(tm: Tm): { year: number; week: number } {
  // ISO weeks start on Monday; week 1 holds the year's first Thursday.
  const wdayMon = (tm.wday + 6) % 7;
  const thursdayYday = tm.yday - wdayMon + 3;
  const daysIn = (y: number) => ((y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 366 : 365);
  if (thursdayYday < 0) {
    const py = tm.year - 1;
    return { year: py, week: Math.floor((thursdayYday + daysIn(py)) / 7) + 1 };
  }
  if (thursdayYday >= daysIn(tm.year)) return { year: tm.year + 1, week: 1 };
  return { year: tm.year, week: Math.floor(thursdayYday / 7) + 1 };
}

/** strftime over a broken-down time. */
export function strftime(fmt: string, tm: Tm): string {
  let out = '';
  for (let i = 0; i < fmt.length; i++) {
    const ch = fmt[i];
    if (ch !== '%') {
      out += ch;
      continue;
    }
    const start = i;
    let flag = '';
    let j = i + 1;
    while (j < fmt.length && '_-0^#'.includes(fmt[j])) flag += fmt[j++];
    let width = -1;
    if (j < fmt.length && fmt[j] >= '1' && fmt[j] <= '9') {
      width = 0;
      while (j < fmt.length && fmt[j] >= '0' && fmt[j] <= '9') width = width * 10 + Number(fmt[j++]);
    }
    if (j < fmt.length && (fmt[j] === 'E' || fmt[j] === 'O')) j++;
    if (j >= fmt.length) {
      out += fmt.slice(start);
      break;
    }
    const conv = fmt[j];
    i = j;
    const r = convert(conv, tm);
    if (r === undefined) {
      out += fmt.slice(start, j + 1);
      continue;
    }
    out += applyFlags(r, flag, width);
  }
  return out;
}

interface Piece { text: string; numeric: boolean; digits?: number; value?: number; padChar?: string; upper?: boolean }

function applyFlags(p: Piece, flag: string, width: number): string {
  let text = p.text;
  if (p.numeric && p.value !== undefined) {
    // Flags re-pad the number; "-" drops padding, "_" pads with spaces.
    const w = width >= 0 ? width : p.digits ?? 0;
    const ch = flag.includes('-') ? '' : flag.includes('_') ? ' ' : flag.includes('0') ? '0' : p.padChar ?? '0';
    text = ch === '' ? String(p.value) : ch === ' ' ? String(p.value).padStart(w, ' ') : pad(p.value, w, '0');
    return text;
  }
  if (flag.includes('^') || (flag.includes('#') && p.upper)) text = text.toUpperCase();
  else if (flag.includes('#') && p.upper === false) text = text.toLowerCase();
  if (width > text.length && !flag.includes('-')) text = text.padStart(width, flag.includes('0') ? '0' : ' ');
  return text;
}

function num(value: number, digits: number, padChar = '0'): Piece {
  return { text: padChar === ' ' ? String(value).padStart(digits, ' ') : pad(value, digits, '0'), numeric: true, value, digits, padChar };
}
const txt = (text: string, upper?: boolean): Piece => ({ text, numeric: false, upper });

function convert(c: string, tm: Tm): Piece | undefined {
  const h12 = tm.hour % 12 === 0 ? 12 : tm.hour % 12;
  switch (c) {
    case 'a': return txt(DAYS[tm.wday].slice(0, 3), true);
    case 'A': return txt(DAYS[tm.wday], true);
    case 'b': case 'h': return txt(MONTHS[tm.mon].slice(0, 3), true);
    case 'B': return txt(MONTHS[tm.mon], true);
    case 'c': return txt(strftime('%a %b %e %H:%M:%S %Y', tm));
    case 'C': return num(Math.floor(tm.year / 100), 2);
    case 'd': return num(tm.mday, 2);
    case 'D': return txt(strftime('%m/%d/%y', tm));
    case 'e': return num(tm.mday, 2, ' ');
    case 'F': return txt(strftime('%Y-%m-%d', tm));
    case 'g': return num(((isoWeek(tm).year % 100) + 100) % 100, 2);
    case 'G': return num(isoWeek(tm).year, 1);
    case 'H': return num(tm.hour, 2);
    case 'I': return num(h12, 2);
    case 'j': return num(tm.yday + 1, 3);
    case 'k': return num(tm.hour, 2, ' ');
    case 'l': return num(h12, 2, ' ');
    case 'm': return num(tm.mon + 1, 2);
    case 'M': return num(tm.min, 2);
    case 'n': return txt('\n');
    case 'p': return txt(tm.hour < 12 ? 'AM' : 'PM', false);
    case 'P': return txt(tm.hour < 12 ? 'am' : 'pm');
    case 'r': return txt(strftime('%I:%M:%S %p', tm));
    case 'R': return txt(strftime('%H:%M', tm));
    case 's': return num(tm.epochSec, 1);
    case 'S': return num(tm.sec, 2);
    case 't': return txt('\t');
    case 'T': return txt(strftime('%H:%M:%S', tm));
    case 'u': return num(tm.wday === 0 ? 7 : tm.wday, 1);
    case 'U': return num(Math.floor((tm.yday + 7 - tm.wday) / 7), 2);
    case 'V': return num(isoWeek(tm).week, 2);
    case 'w': return num(tm.wday, 1);
    case 'W': return num(Math.floor((tm.yday + 7 - ((tm.wday + 6) % 7)) / 7), 2);
    case 'x': return txt(strftime('%m/%d/%y', tm));
    case 'X': return txt(strftime('%H:%M:%S', tm));
    case 'y': return num(((tm.year % 100) + 100) % 100, 2);
    case 'Y': return num(tm.year, 1);
    case 'z': {
      const off = Math.abs(tm.utcOffset);
      const hhmm = Math.floor(off / 3600) * 100 + Math.floor((off % 3600) / 60);
      return txt(`${tm.utcOffset < 0 ? '-' : '+'}${String(hhmm).padStart(4, '0')}`);
    }
    case 'Z': return txt(tm.zone, false);
    case '%': return txt('%');
    default: return undefined;
  }
}
