// Decoded BTF types. The on-disk layout is the one described in the kernel's
// Documentation/bpf/btf.rst; these are the shapes the rest of bpfkit sees, one
// interface per kind so a `switch (t.kind)` narrows to the right fields.

/** Kind numbers as stored in bits 24..28 of `btf_type.info`. */
export const BTF_KIND = {
  unkn: 0, int: 1, ptr: 2, array: 3, struct: 4, union: 5, enum: 6, fwd: 7, typedef: 8,
  volatile: 9, const: 10, restrict: 11, func: 12, func_proto: 13, var: 14, datasec: 15,
  float: 16, decl_tag: 17, type_tag: 18, enum64: 19,
} as const;

export type BtfKindName = Exclude<keyof typeof BTF_KIND, 'unkn'>;

/** Index is the kind number; 'void' stands for kind 0 (only type id 0 has it). */
export const KIND_NAMES: readonly (BtfKindName | 'void')[] = [
  'void', 'int', 'ptr', 'array', 'struct', 'union', 'enum', 'fwd', 'typedef', 'volatile', 'const',
  'restrict', 'func', 'func_proto', 'var', 'datasec', 'float', 'decl_tag', 'type_tag', 'enum64',
];

/** BTF_INT_* encoding bits. */
export const BTF_INT_SIGNED = 1;
export const BTF_INT_CHAR = 2;
export const BTF_INT_BOOL = 4;

export class BtfError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BtfError';
  }
}

export interface BtfMember {
  name: string;
  typeId: number;
  /** From the start of the outermost struct the lookup began at (anonymous members' offsets are added in). */
  bitOffset: number;
  /** 0 if not a bitfield. */
  bitfieldSize: number;
}

export interface BtfParam {
  name: string;
  typeId: number;
}

export interface BtfEnumValue {
  name: string;
  value: bigint;
}

interface Base {
  id: number;
  /** '' for anonymous types. */
  name: string;
}

export interface BtfVoid extends Base { kind: 'void' }
export interface BtfInt extends Base {
  kind: 'int';
  size: number;
  /** Raw BTF_INT_* bits; `signed`, `isChar`, `isBool` spell them out. */
  encoding: number;
  signed: boolean;
  isChar: boolean;
  isBool: boolean;
  /** Bit offset of the value inside its storage (0 except in old-style bitfields). */
  offset: number;
  bits: number;
}
export interface BtfPtr extends Base { kind: 'ptr'; type: number }
export interface BtfArray extends Base { kind: 'array'; elem: number; index: number; nelems: number }
export interface BtfStruct extends Base { kind: 'struct' | 'union'; size: number; members: BtfMember[] }
export interface BtfEnum extends Base { kind: 'enum' | 'enum64'; size: number; signed: boolean; values: BtfEnumValue[] }
export interface BtfFwd extends Base { kind: 'fwd'; /** `union X;` rather than `struct X;` */ union: boolean }
export interface BtfModifier extends Base { kind: 'typedef' | 'volatile' | 'const' | 'restrict' | 'type_tag'; type: number }
export type BtfLinkage = 'static' | 'global' | 'extern';
export interface BtfFunc extends Base { kind: 'func'; proto: number; linkage: BtfLinkage }
export interface BtfFuncProto extends Base {
  kind: 'func_proto';
  ret: number;
  /** Without the trailing `...` marker; see `variadic`. */
  params: BtfParam[];
  variadic: boolean;
}
export interface BtfVar extends Base { kind: 'var'; type: number; linkage: BtfLinkage }
export interface BtfVarSecinfo { type: number; offset: number; size: number }
export interface BtfDatasec extends Base { kind: 'datasec'; size: number; vars: BtfVarSecinfo[] }
export interface BtfFloat extends Base { kind: 'float'; size: number }
export interface BtfDeclTag extends Base { kind: 'decl_tag'; type: number; /** -1 when the tag is on the type itself */ componentIdx: number }

export type BtfType =
  | BtfVoid | BtfInt | BtfPtr | BtfArray | BtfStruct | BtfEnum | BtfFwd | BtfModifier
  | BtfFunc | BtfFuncProto | BtfVar | BtfDatasec | BtfFloat | BtfDeclTag;
