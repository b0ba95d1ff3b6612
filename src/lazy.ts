// Node builtins loaded on first use. child_process brings net and the stream
// machinery with it: about 10 ms of every start-up, for what only -c,
// system(), uprobes and a few lookups need. process.getBuiltinModule (Node
// 20.16) reaches them without node:module, whose own loading (it brings the
// ESM loader with it) costs half a millisecond.
export function childProcess(): typeof import('node:child_process') {
  return process.getBuiltinModule('node:child_process');
}

export function net(): typeof import('node:net') {
  return process.getBuiltinModule('node:net');
}

export function zlib(): typeof import('node:zlib') {
  return process.getBuiltinModule('node:zlib');
}

export function os(): typeof import('node:os') {
  return process.getBuiltinModule('node:os');
}

/** A require() resolving from `from` (a file URL or path), for packages rather than builtins. */
export function requireFrom(from: string): NodeJS.Require {
  return process.getBuiltinModule('node:module').createRequire(from);
}
