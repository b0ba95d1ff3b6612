// Node builtins loaded on first use. child_process brings net and the stream
// machinery with it: about 10 ms of every start-up, for what only -c,
// system(), uprobes and a few lookups need.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export function childProcess(): typeof import('node:child_process') {
  return require('node:child_process');
}

export function net(): typeof import('node:net') {
  return require('node:net');
}

export function zlib(): typeof import('node:zlib') {
  return require('node:zlib');
}
