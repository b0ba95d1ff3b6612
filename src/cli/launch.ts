// How bin/bpfkit starts the bundled CLI (dist/cli.cjs): compiled from V8's
// code cache when one matches. Parsing and compiling over half a megabyte of
// JavaScript was a third of a one-liner's start-up; the cache, written by the
// first run of each kind, holds every function that run compiled by then
// (cachetags.ts says when). Built on its own as
// bin/bpfkit itself (scripts/build.mjs): CommonJS all the way, since Node's
// ESM loader costs about 10 ms of start-up and module loading has no
// code-cache hook in Node 20.
//
// The cache sits next to the bundle (never in a shared temporary directory:
// bpfkit runs as root and would execute what it finds there). It is keyed by
// the bundle's size and mtime and by Node's version; V8 checks its own flags
// and version and says when it rejects the data, and then a fresh cache is
// written. Failing to read or write it only costs the time it would save.
import { readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Script } from 'node:vm';
import { CHECKPOINT_KEY, RUN_TAGS_KEY, namesTool } from './cachetags.js';
import { isAlpha } from '../chars.js';

// The cache file: the stamp line, a line of the run tags it was written
// after (cachetags.ts), then V8's data.
function readCache(file: string, stamp: string): { data: Buffer; tags: Set<string> } | undefined {
  try {
    const raw = readFileSync(file);
    const head = Buffer.from(stamp, 'latin1');
    if (raw.length <= head.length || !raw.subarray(0, head.length).equals(head)) return undefined;
    const nl = raw.indexOf(10, head.length);
    if (nl < 0) return undefined;
    const tags = raw.toString('latin1', head.length, nl).split(' ').filter(Boolean);
    return { data: raw.subarray(nl + 1), tags: new Set(tags) };
  } catch {
    // No cache yet.
  }
  return undefined;
}

function writeCache(file: string, stamp: string, tags: Set<string>, script: Script): void {
  const tmp = `${file}.${process.pid}`;
  try {
    writeFileSync(tmp, Buffer.concat([Buffer.from(`${stamp}${[...tags].sort().join(' ')}\n`, 'latin1'), script.createCachedData()]));
    // Atomic, so concurrent first runs never read half a file.
    renameSync(tmp, file);
  } catch {
    try {
      unlinkSync(tmp);
    } catch {
      // Nothing was written.
    }
  }
}

/**
 * Which cache a run uses, guessed from its arguments the way main.ts tells
 * them apart. Tools, listings and traces compile different code, and V8
 * loads a cache in time with its size: one cache for all of them grew by half
 * and made every trace start slower. A wrong guess only costs that time.
 */
export function cacheKind(argv: readonly string[]): string {
  if (namesTool(argv[0])) return 'tool';
  if (argv.some((a) => listsFlag(a) || a === '--info' || a === '-h' || a === '--help' || a === '-V' || a === '--version')) return 'misc';
  // User-space probes bring the ELF, DWARF and demangling code with them.
  if (argv.some(namesUserProbe)) return 'trace-user';
  return 'trace';
}

// Spelled-out forms of /^-[a-zA-Z]*l/ and /(^|[\s,{}])(uprobe|uretprobe|usdt|u|ur|U):/:
// a regular expression's first two uses cost about 70 us each.

/** `-l`, `-lv`, `-vl`...: a cluster of single-letter flags with `l` among them. */
function listsFlag(a: string): boolean {
  if (a[0] !== '-') return false;
  for (let i = 1; i < a.length && isAlpha(a.charCodeAt(i)); i++) if (a[i] === 'l') return true;
  return false;
}

const USER_PROVIDERS = new Set(['uprobe', 'uretprobe', 'usdt', 'u', 'ur', 'U']);

/** Whether program text `a` has a user-space provider name before a `:`, at its start or after a blank, `,`, `{` or `}`. */
function namesUserProbe(a: string): boolean {
  for (let colon = a.indexOf(':'); colon >= 0; colon = a.indexOf(':', colon + 1)) {
    // Names are letters, and what may come before one is not: the name is the whole letter run.
    let i = colon;
    while (i > 0 && isAlpha(a.charCodeAt(i - 1))) i--;
    if ((i === 0 || ' \t\n\r\v\f,{}'.includes(a[i - 1])) && USER_PROVIDERS.has(a.slice(i, colon))) return true;
  }
  return false;
}

/** Runs the CommonJS bundle at `bundle` (an absolute path) as the main program. */
export function launch(bundle: string): void {
  const cacheFile = `${bundle}.${cacheKind(process.argv.slice(2))}.v8cache`;
  const st = statSync(bundle);
  const stamp = `bpfkit-v8cache ${process.version} ${process.arch} ${st.size} ${st.mtimeMs}\n`;
  const cached = readCache(cacheFile, stamp);
  // The bundle is the module's function (what a CommonJS module is given,
  // plus what esbuild substituted for `import.meta`), in ASCII
  // (scripts/build.mjs), so latin1 reads it without decoding.
  const script = new Script(readFileSync(bundle, 'latin1'), { filename: bundle, cachedData: cached?.data });
  let known = cached && !script.cachedDataRejected ? cached.tags : undefined;
  // Once per new kind of run: at the checkpoint (cachetags.ts), else at exit.
  const save = () => {
    const ran = (globalThis as { [RUN_TAGS_KEY]?: Set<string> })[RUN_TAGS_KEY] ?? new Set<string>();
    if (known && [...ran].every((t) => known!.has(t))) return;
    known = new Set([...(known ?? []), ...ran]);
    writeCache(cacheFile, stamp, known, script);
  };
  (globalThis as { [CHECKPOINT_KEY]?: () => void })[CHECKPOINT_KEY] = save;
  process.once('exit', save);
  const module = { exports: {} };
  // The bundle requires only Node's builtins (packages such as koffi are
  // found from its own directory), which any require() loads: this file's
  // own spares loading node:module for createRequire, half a millisecond.
  // Its import.meta.dirname is __dirname; import.meta.url, which only
  // fallbacks read, is built when read (node:url's conversion costs most of
  // a millisecond).
  const meta = {
    get url(): string {
      const load: NodeJS.Require = require;
      return (load('node:url') as typeof import('node:url')).pathToFileURL(bundle).href;
    },
  };
  (script.runInThisContext() as (...a: unknown[]) => void).call(module.exports, module.exports, require, module, bundle, dirname(bundle), meta);
}
