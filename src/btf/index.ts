// Public face of the BTF reader: the compiler, the probe providers and the
// listing code import from here, never from the files behind it.
export { Btf } from './btf.js';
export { formatType } from './ctext.js';
export {
  BTF_KIND, BtfError, KIND_NAMES,
  type BtfArray, type BtfDatasec, type BtfDeclTag, type BtfEnum, type BtfEnumValue, type BtfFloat, type BtfFunc,
  type BtfFuncProto, type BtfFwd, type BtfInt, type BtfKindName, type BtfLinkage, type BtfMember, type BtfModifier,
  type BtfParam, type BtfPtr, type BtfStruct, type BtfType, type BtfVar, type BtfVarSecinfo, type BtfVoid,
} from './types.js';
