// What bin/bpfkit loads (as dist/cli.js): the bundled CLI (dist/cli.cjs),
// compiled from V8's code cache when one matches. Parsing and compiling half a
// megabyte of JavaScript was a third of a one-liner's start-up; the cache,
// written after the first run, holds every function that run compiled.
//
// The cache sits next to the bundle (never in a shared temporary directory:
// bpfkit runs as root and would execute what it finds there). It is keyed by
// the bundle's size and mtime and by Node's version; V8 checks its own flags
// and version and says when it rejects the data, and then a fresh cache is
// written. Failing to read or write it only costs the time it would save.
import { createRequire } from 'node:module';
import type { Script as VmScript } from 'node:vm';

// Builtins through require(): an ESM import of node:fs builds a facade of all
// its exports, whose lazy getters (streams, promises) cost milliseconds.
const require = createRequire(import.meta.url);
const { readFileSync, renameSync, statSync, unlinkSync, writeFileSync } = require('node:fs') as typeof import('node:fs');
const { dirname } = require('node:path') as typeof import('node:path');
const { fileURLToPath, pathToFileURL } = require('node:url') as typeof import('node:url');
const { Script } = require('node:vm') as typeof import('node:vm');

const bundle = fileURLToPath(new URL('./cli.cjs', import.meta.url));
const cacheFile = `${bundle}.v8cache`;

function stampOf(): string {
  const st = statSync(bundle);
  return `bpfkit-v8cache ${process.version} ${process.arch} ${st.size} ${st.mtimeMs}\n`;
}

function readCache(stamp: string): Buffer | undefined {
  try {
    const data = readFileSync(cacheFile);
    const head = Buffer.from(stamp, 'latin1');
    if (data.length > head.length && data.subarray(0, head.length).equals(head)) return data.subarray(head.length);
  } catch {
    // No cache yet.
  }
  return undefined;
}

function writeCache(stamp: string, script: VmScript): void {
  const tmp = `${cacheFile}.${process.pid}`;
  try {
    writeFileSync(tmp, Buffer.concat([Buffer.from(stamp, 'latin1'), script.createCachedData()]));
    // Atomic, so concurrent first runs never read half a file.
    renameSync(tmp, cacheFile);
  } catch {
    try {
      unlinkSync(tmp);
    } catch {
      // Nothing was written.
    }
  }
}

const stamp = stampOf();
const cachedData = readCache(stamp);
// The wrapper gives the bundle what a CommonJS module has, plus the URL
// esbuild substituted for `import.meta.url` in the ESM sources.
const source = `(function (exports, require, module, __filename, __dirname, __bpfkit_import_meta_url) {'use strict';${readFileSync(bundle, 'utf8')}\n})`;
const script = new Script(source, { filename: bundle, cachedData });
if (!cachedData || script.cachedDataRejected) process.once('exit', () => writeCache(stamp, script));
const module = { exports: {} };
(script.runInThisContext() as (...a: unknown[]) => void).call(
  module.exports, module.exports, createRequire(bundle), module, bundle, dirname(bundle), pathToFileURL(bundle).href,
);
