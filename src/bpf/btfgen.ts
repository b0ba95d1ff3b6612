// A minimal BTF blob describing a program's functions. The verifier insists
// on BTF func_info for any program that takes a subprogram's address
// (BPF_PSEUDO_FUNC: bpf_for_each_map_elem, bpf_loop callbacks), and func_info
// must point at FUNC types in a loaded BTF object. Nothing else about the
// types matters to it, so every parameter and return value is a `long`.
import { Attr, BtfLoadAttr } from './attr.js';
import { trackFd, untrackFd } from './fds.js';
import { BpfCmd, SysError, bpfTry, close } from './sys.js';
import { isIdentStart, underscored } from '../chars.js';

const BTF_MAGIC = 0xeb9f;
const BTF_VERSION = 1;
const HEADER_LEN = 24;
const KIND_INT = 1;
const KIND_FUNC = 12;
const KIND_FUNC_PROTO = 13;
const INT_SIGNED = 1;
const LINKAGE_STATIC = 0;

/** One function of the program: its BTF name and its parameter names (all typed `long`). */
export interface BtfFunc {
  name: string;
  params: string[];
}

export interface FuncBtf {
  /** The raw BTF (header, types, strings), ready for BPF_BTF_LOAD. */
  blob: Buffer;
  /** BTF type id of each function's FUNC record, in the order given. */
  typeIds: number[];
}

/** The signature of a bpf_for_each_map_elem callback. */
export const MAP_ELEM_CALLBACK_PARAMS = ['map', 'key', 'value', 'ctx'];

/**
 * Turns `s` into a BTF identifier ([A-Za-z_][A-Za-z0-9_]*): the kernel
 * refuses a FUNC whose name is anything else.
 */
export function btfIdent(s: string): string {
  const t = underscored(s);
  return isIdentStart(t.charCodeAt(0)) ? t : `_${t}`;
}

/**
 * Builds BTF with one INT `long` and, per function, a FUNC_PROTO returning
 * long and a static FUNC. Example, a main program and one callback:
 *   buildFuncBtf([{ name: 'main', params: [] }, { name: 'cb', params: MAP_ELEM_CALLBACK_PARAMS }])
 */
export function buildFuncBtf(funcs: BtfFunc[]): FuncBtf {
  const strings: string[] = [''];
  let strLen = 1;
  const strOff = new Map<string, number>([['', 0]]);
  const str = (s: string): number => {
    let o = strOff.get(s);
    if (o === undefined) {
      o = strLen;
      strOff.set(s, o);
      strings.push(s);
      strLen += Buffer.byteLength(s) + 1;
    }
    return o;
  };
  const words: number[] = [];
  let nextId = 1;
  const info = (kind: number, vlen: number) => ((kind << 24) | (vlen & 0xffff)) >>> 0;

  const longId = nextId++;
  words.push(str('long'), info(KIND_INT, 0), 8, ((INT_SIGNED << 24) | 64) >>> 0);

  const typeIds: number[] = [];
  for (const f of funcs) {
    const name = btfIdent(f.name);
    const protoId = nextId++;
    words.push(0, info(KIND_FUNC_PROTO, f.params.length), longId);
    // FUNC checks that every parameter is named.
    for (const p of f.params) words.push(str(btfIdent(p)), longId);
    const funcId = nextId++;
    words.push(str(name), info(KIND_FUNC, LINKAGE_STATIC), protoId);
    typeIds.push(funcId);
  }

  const typeLen = words.length * 4;
  const blob = Buffer.alloc(HEADER_LEN + typeLen + strLen);
  blob.writeUInt16LE(BTF_MAGIC, 0);
  blob.writeUInt8(BTF_VERSION, 2);
  blob.writeUInt8(0, 3);
  blob.writeUInt32LE(HEADER_LEN, 4);
  blob.writeUInt32LE(0, 8); // type_off, relative to the end of the header
  blob.writeUInt32LE(typeLen, 12);
  blob.writeUInt32LE(typeLen, 16); // str_off
  blob.writeUInt32LE(strLen, 20);
  words.forEach((w, i) => blob.writeUInt32LE(w >>> 0, HEADER_LEN + i * 4));
  let at = HEADER_LEN + typeLen;
  for (const s of strings) {
    at += blob.write(s, at, 'utf8');
    blob[at++] = 0;
  }
  return { blob, typeIds };
}

/** A BTF blob the kernel refused, with its BTF verifier log. */
export class BtfLoadError extends SysError {
  constructor(errnum: number, readonly log: string) {
    super('loading BTF', errnum);
    this.name = 'BtfLoadError';
    const last = log.split('\n').map((l) => l.trim()).filter(Boolean).pop();
    if (last) this.message += `: ${last}`;
  }
}

/**
 * BPF_BTF_LOAD. Returns the BTF object's fd (tracked; release it with
 * closeBtf once the programs using it are loaded: they keep their own
 * reference). On refusal, retries with a log and throws BtfLoadError.
 */
export function loadBtf(blob: Buffer): number {
  const a = new Attr().ptr(BtfLoadAttr.btf, blob).u32(BtfLoadAttr.btfSize, blob.length);
  const fd = bpfTry(BpfCmd.BTF_LOAD, a.buf);
  if (fd >= 0) return trackFd(fd, 'btf');
  const log = Buffer.alloc(64 * 1024);
  a.ptr(BtfLoadAttr.logBuf, log).u32(BtfLoadAttr.logSize, log.length).u32(BtfLoadAttr.logLevel, 1);
  const again = bpfTry(BpfCmd.BTF_LOAD, a.buf);
  if (again >= 0) return trackFd(again, 'btf');
  const end = log.indexOf(0);
  throw new BtfLoadError(-fd, log.toString('utf8', 0, end < 0 ? log.length : end));
}

export function closeBtf(fd: number): void {
  untrackFd(fd);
  close(fd);
}

/** A subprogram of a program being loaded: its BTF name, parameters and first instruction slot. */
export interface SubprogInfo {
  name: string;
  params: string[];
  slot: number;
}

/**
 * Loads the BTF describing a program (main function `mainName` at slot 0,
 * then `subprogs`) and returns what ProgramSpec needs: pass btfFd and
 * funcInfo to Program.load, then closeBtf(btfFd).
 */
export function loadFuncInfo(mainName: string, subprogs: SubprogInfo[]): { btfFd: number; funcInfo: { insnOff: number; typeId: number }[] } {
  // func_info must follow instruction order.
  const subs = [...subprogs].sort((a, b) => a.slot - b.slot);
  const { blob, typeIds } = buildFuncBtf([{ name: mainName, params: [] }, ...subs]);
  const btfFd = loadBtf(blob);
  const funcInfo = [{ insnOff: 0, typeId: typeIds[0] }, ...subs.map((s, i) => ({ insnOff: s.slot, typeId: typeIds[i + 1] }))];
  return { btfFd, funcInfo };
}
