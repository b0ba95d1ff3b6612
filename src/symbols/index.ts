// The symbol layer: ELF files, USDT notes and argument specs, process maps,
// perf maps, kernel symbols, library resolution and C++ demangling. It reads
// files only and imports nothing from the layers above it.
export { demangle, demangleOrSelf, isMangled, type DemangleOptions } from './demangle.js';
export { Elf, ElfError, elfFromBuffer, isElf, openElf, plainName, type ProgramHeader, type SectionHeader, type Sym, type SymbolHit, type SymBind, type SymType } from './elf.js';
export { parseNotes, type UsdtNote } from './elfnotes.js';
export { formatKsym, Kallsyms, kallsyms, kaddr, kernelFunctions, ksym, reloadKallsyms, type KernelFunction, type KernelSymbol } from './kallsyms.js';
export { ldCache, parseLdCache, parseLdconfigOutput, type LdCacheEntry } from './ldcache.js';
export { PerfMap, perfMap, perfMapLookup, type PerfMapEntry } from './perfmap.js';
export { findMapping, forgetProcess, parseMaps, processMaps, readMaps, rememberProcess, type Mapping } from './procmaps.js';
export { resolveUserAddress, runtimeAddress, type UserAddress } from './useraddr.js';
export { ARG_OFFSETS, ARG_REG_NAMES, argOffset, IP_OFFSET, PT_REGS, PT_REGS_SIZE, REG_NAMES, RETVAL_OFFSET, reg, SP_OFFSET, x86Register, type X86Register } from './regs.js';
export { hasWildcard, listFunctions, listUsdt, matchFunctions, parseFuncSpec, resolveBinary, ResolveError, resolveLibrary, resolveUprobe, resolveUsdt, STANDARD_LIB_DIRS, wildcardRegExp, type FuncSpec, type ResolveOptions, type UprobeTarget } from './resolve.js';
export { parseUsdtArg, parseUsdtArgs, UsdtArgError, type RegRef, type UsdtArg, type UsdtLocation } from './usdt.js';
export { resolveUser, symbolizeUser, type UserFormatOptions, type UserSymbol } from './usym.js';
export { xzDecompress, XzError } from './xz.js';
