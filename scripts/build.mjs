// Two outputs: build/ is a file-for-file transpile of src/ and test/ (what the
// test runner loads), dist/ is one bundled entry so the CLI starts without
// resolving hundreds of modules.
import { build } from 'esbuild';
import { readdirSync, readFileSync, rmSync, statSync, mkdirSync, cpSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
function walk(dir, out = []) {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) out.push(p);
  }
  return out;
}
const entries = [...walk(join(root, 'src')), ...walk(join(root, 'test')), ...walk(join(root, 'bench'))];
await build({
  entryPoints: entries,
  outdir: join(root, 'build'),
  outbase: root,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'inline',
  logLevel: 'warning',
});
const common = {
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['koffi'],
  logLevel: 'warning',
  // Bundled ESM still needs require() for koffi's CommonJS entry.
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
};
// The CLI is CommonJS so src/cli/launch.ts (dist/launch.cjs, what bin/bpfkit
// runs) can compile it with V8's code cache, which module loading offers no
// hook for in Node 20. The file is the module's function itself, so launch
// hands the text to V8 as read; minified, it is a little over half the size
// and ASCII, which Node reads as latin1 without decoding UTF-8: together
// about 4 ms of every start. Stack traces map back with
// `node --enable-source-maps` through the linked source map.
const CLI_WRAPPER = "(function (exports, require, module, __filename, __dirname, __bpfkit_import_meta_url) {'use strict';";
await build({
  ...common,
  format: 'cjs',
  minify: true,
  sourcemap: 'linked',
  charset: 'ascii',
  legalComments: 'none',
  banner: { js: CLI_WRAPPER },
  footer: { js: '})' },
  define: { 'import.meta.url': '__bpfkit_import_meta_url' },
  entryPoints: [join(root, 'src/cli/main.ts')],
  outfile: join(root, 'dist/cli.cjs'),
});
const cli = readFileSync(join(root, 'dist/cli.cjs'));
if (cli.includes('import(')) {
  throw new Error('dist/cli.cjs holds a dynamic import(), which the code-cache launcher cannot serve');
}
if (cli.some((b) => b > 0x7f)) throw new Error('dist/cli.cjs is not ASCII, and launch reads it as latin1');
for (const f of readdirSync(join(root, 'dist'))) if (f.endsWith('.v8cache')) rmSync(join(root, 'dist', f), { force: true });
await build({ ...common, banner: undefined, format: 'cjs', entryPoints: [join(root, 'src/cli/launch.ts')], outfile: join(root, 'dist/launch.cjs') });
// The ESM entry of earlier builds; bin/bpfkit no longer loads it.
rmSync(join(root, 'dist/cli.js'), { force: true });
await build({ ...common, entryPoints: [join(root, 'src/index.ts')], outfile: join(root, 'dist/index.js') });
// Tool programs are read at run time from next to the bundle.
if (existsSync(join(root, 'src/tools'))) {
  mkdirSync(join(root, 'dist/tools'), { recursive: true });
  for (const f of readdirSync(join(root, 'src/tools'))) if (f.endsWith('.bt')) cpSync(join(root, 'src/tools', f), join(root, 'dist/tools', f));
}
