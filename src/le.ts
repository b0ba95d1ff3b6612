// Little-endian loads and stores on byte arrays. Node's Buffer methods for
// the same are compiled on their first call, 30-150 us each here, and
// attaching a probe used half a dozen of them: these live in bpfkit's own
// code cache instead. Stores wrap like the typed array they write to (the
// value's low bits); there is no bounds check beyond the array's own.

export function putU16(b: Uint8Array, off: number, v: number): void {
  b[off] = v;
  b[off + 1] = v >>> 8;
}

/** Also the two's complement of a negative `v`. */
export function putU32(b: Uint8Array, off: number, v: number): void {
  b[off] = v;
  b[off + 1] = v >>> 8;
  b[off + 2] = v >>> 16;
  b[off + 3] = v >>> 24;
}

/** `v` modulo 2^64. */
export function putU64(b: Uint8Array, off: number, v: bigint): void {
  putU32(b, off, Number(v & 0xffffffffn));
  putU32(b, off + 4, Number((v >> 32n) & 0xffffffffn));
}

export function getU32(b: Uint8Array, off: number): number {
  return (b[off] | (b[off + 1] << 8) | (b[off + 2] << 16)) + b[off + 3] * 0x1000000;
}

export function getI32(b: Uint8Array, off: number): number {
  return b[off] | (b[off + 1] << 8) | (b[off + 2] << 16) | (b[off + 3] << 24);
}

export function getU64(b: Uint8Array, off: number): bigint {
  return BigInt(getU32(b, off)) | (BigInt(getU32(b, off + 4)) << 32n);
}
