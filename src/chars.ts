// Character tests and small scans written out by hand. V8 compiles a regular
// expression on its first use and again to machine code on its second, about
// 35 us each here, and start-up ran some thirty of them once or twice: over
// a millisecond of every run. Code on the path from the command line to the
// first event uses these instead.

export const isDigit = (c: number): boolean => c >= 48 && c <= 57;
export const isAlpha = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
/** `[_a-zA-Z]` */
export const isIdentStart = (c: number): boolean => isAlpha(c) || c === 95;
/** `[_a-zA-Z0-9]` */
export const isIdentChar = (c: number): boolean => isIdentStart(c) || isDigit(c);
/** `[ \t\r\n]` */
export const isBlank = (c: number): boolean => c === 32 || c === 9 || c === 13 || c === 10;
/** `\s` as far as ASCII text goes (space, \t \n \v \f \r). */
export const isSpace = (c: number): boolean => c === 32 || (c >= 9 && c <= 13);

/** End of the identifier starting at `i` (`i` itself when none starts there). */
export function identEnd(s: string, i: number): number {
  if (!isIdentStart(s.charCodeAt(i))) return i;
  let j = i + 1;
  while (j < s.length && isIdentChar(s.charCodeAt(j))) j++;
  return j;
}

/** Whether every character of `s` is 7-bit ASCII. */
export function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** `s` with every character outside `[A-Za-z0-9_]` (and `extra`) turned into `_`. */
export function underscored(s: string, extra = ''): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    out += isIdentChar(s.charCodeAt(i)) || extra.includes(ch) ? ch : '_';
  }
  return out;
}

/** The unsigned decimal integer spelled by all of `s`, else undefined. */
export function decimal(s: string): number | undefined {
  if (s.length === 0) return undefined;
  for (let i = 0; i < s.length; i++) if (!isDigit(s.charCodeAt(i))) return undefined;
  return Number(s);
}

/** `s` with whitespace runs collapsed to one space and the ends trimmed (`.replace(/\s+/g, ' ').trim()`). */
export function squeezeSpaces(s: string): string {
  let out = '';
  let pendingSpace = false;
  for (let i = 0; i < s.length; i++) {
    if (isSpace(s.charCodeAt(i))) {
      pendingSpace = out.length > 0;
      continue;
    }
    if (pendingSpace) out += ' ';
    pendingSpace = false;
    out += s[i];
  }
  return out;
}
