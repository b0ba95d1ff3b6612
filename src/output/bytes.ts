// Kernel strings are bytes, not necessarily UTF-8, and bpftrace writes them out
// untouched. Rendered output is a JS string, so bytes that are not valid UTF-8
// are carried as lone surrogates U+DC80..U+DCFF (Python's "surrogateescape")
// and turned back into the same raw bytes by encodeOutput(). Valid UTF-8 stays
// ordinary text, so callers can treat rendered output as normal strings.

const ESCAPE_BASE = 0xdc00;

/** Bytes (e.g. a string read from the kernel) to a JS string, losslessly. */
export function decodeBytes(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    if (b < 0x80) {
      // Runs of ASCII are the common case; slice them in one go.
      let j = i + 1;
      while (j < bytes.length && bytes[j] < 0x80) j++;
      out += String.fromCharCode(...bytes.subarray(i, j));
      i = j;
      continue;
    }
    const n = b >= 0xf0 && b <= 0xf4 ? 4 : b >= 0xe0 ? (b <= 0xef ? 3 : 0) : b >= 0xc2 ? 2 : 0;
    let cp = n === 2 ? b & 0x1f : n === 3 ? b & 0x0f : b & 0x07;
    let ok = n > 0 && i + n <= bytes.length;
    for (let k = 1; ok && k < n; k++) {
      const c = bytes[i + k];
      if ((c & 0xc0) !== 0x80) ok = false;
      else cp = (cp << 6) | (c & 0x3f);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    if (ok && ((n === 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (n === 4 && (cp < 0x10000 || cp > 0x10ffff)))) ok = false;
    if (ok) {
      out += String.fromCodePoint(cp);
      i += n;
    } else {
      out += String.fromCharCode(ESCAPE_BASE + b);
      i += 1;
    }
  }
  return out;
}

/** A single raw byte as a string (what C's %c writes). */
export function byteChar(b: number): string {
  const v = b & 0xff;
  return v < 0x80 ? String.fromCharCode(v) : String.fromCharCode(ESCAPE_BASE + v);
}

/** Rendered output to the bytes to write: UTF-8, with escaped raw bytes restored. */
const utf8 = new TextEncoder();
const LONE_ESCAPE = /(?<![\ud800-\udbff])[\udc80-\udcff]/;

export function encodeOutput(text: string): Uint8Array {
  if (!LONE_ESCAPE.test(text)) return utf8.encode(text);
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) {
      out.push(c);
      continue;
    }
    if (c >= 0xdc80 && c <= 0xdcff) {
      out.push(c - ESCAPE_BASE);
      continue;
    }
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      }
    }
    if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 0x3f));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 0x3f), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
  }
  return Uint8Array.from(out);
}
