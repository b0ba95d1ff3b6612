// The compiler driver: source -> AST -> probe expansion -> types -> BPF
// instructions, for every probe and target. It assembles the builtin registry
// and hands it to the passes; nothing here touches the kernel, so `--dry-run`
// and `-d codegen` work anywhere.
import type * as AST from './lang/ast.js';
import { ringSizeFor } from './bpf/map.js';
import { parse } from './lang/parser.js';
import { CompileError, type Diagnostic } from './lang/diagnostics.js';
import { Checker, type ProbeTypes } from './analysis/check.js';
import { CTypes } from './analysis/ctypes.js';
import { Resources } from './analysis/resources.js';
import { Registry, type CompileOptions } from './builtins/registry.js';
import { variableBuiltins } from './builtins/vars.js';
import { aggregationBuiltins } from './builtins/aggregations.js';
import { outputBuiltins } from './builtins/output.js';
import { stringBuiltins } from './builtins/strings.js';
import { miscBuiltins } from './builtins/misc.js';
import { stackFns, stackVars } from './builtins/stacks.js';
import { ProbeGen, CodegenError } from './codegen/gen.js';
import { MAX_STACK, type Emitter } from './codegen/emitter.js';
import { expand, providers, ProbeError } from './probes/index.js';
import { scopeVariables } from './analysis/scopes.js';
import type { Provider, ProbeTarget } from './probes/provider.js';

export function builtinRegistry(): Registry {
  return new Registry()
    .addVar(...variableBuiltins, ...stackVars)
    .addFn(...aggregationBuiltins, ...outputBuiltins, ...stringBuiltins, ...miscBuiltins, ...stackFns);
}

export interface CompiledProbe {
  probe: AST.Probe;
  target: ProbeTarget;
  code: Emitter;
}

export interface Compiled {
  ast: AST.Program;
  res: Resources;
  probes: CompiledProbe[];
  /** Bytes of per-CPU scratch the largest probe needs. */
  scratchSize: number;
  opts: CompileOptions;
  providers: Provider[];
  warnings: Diagnostic[];
}

export const defaultOptions = (): CompileOptions => ({
  maxStrlen: 1024,
  unsafe: false,
  positional: [],
  ncpus: 1,
  ringSize: 0,
  stackMapSize: 16384,
  mapKeysMax: 4096,
});

/** Applies `config = { ... }` entries (bpftrace's names) to the options. */
function applyConfig(p: AST.Program, opts: CompileOptions, diags: Diagnostic[]): void {
  if (!p.config) return;
  for (const ent of p.config.entries) {
    const key = ent.key.toLowerCase().replace(/^bpftrace_/, '');
    const v = ent.value;
    const num = v.kind === 'Int' ? Number(v.value) : undefined;
    switch (key) {
      case 'max_strlen':
      case 'strlen':
        if (num === undefined || num < 1) diags.push({ severity: 'error', message: `Invalid value for ${ent.key}: expected a positive integer`, loc: ent.loc });
        else opts.maxStrlen = num;
        break;
      case 'max_map_keys':
      case 'map_keys_max':
        if (num === undefined || num < 1) diags.push({ severity: 'error', message: `Invalid value for ${ent.key}: expected a positive integer`, loc: ent.loc });
        else opts.mapKeysMax = num;
        break;
      case 'perf_rb_pages':
        if (num !== undefined) opts.ringSize = ringSizeFor(num * 4096);
        break;
      case 'stack_mode':
      case 'log_size':
      case 'max_bpf_progs':
      case 'max_probes':
      case 'max_type_res_iterations':
      case 'on_stack_limit':
      case 'missing_probes':
      case 'print_maps_on_exit':
      case 'cache_user_symbols':
      case 'cpp_demangle':
      case 'lazy_symbolication':
      case 'license':
      case 'unstable_map_decl':
      case 'show_debug_info':
        break;
      default:
        diags.push({ severity: 'error', message: `Unrecognized config variable: ${ent.key}`, loc: ent.loc });
    }
  }
}

/**
 * Substitutes object-like `#define NAME value` macros, as bpftrace's C
 * preprocessor pass does: each identifier naming one becomes the parsed
 * value, located where the identifier was. Function-like macros are left
 * alone (an unknown identifier then reports them).
 */
function expandMacros(ast: AST.Program): void {
  const macros = new Map<string, string>();
  for (const line of ast.preprocessor) {
    const m = /^#\s*define\s+([A-Za-z_]\w*)(?![\w(])\s*(.*)$/.exec(line.trim());
    if (m && m[2].trim()) macros.set(m[1], m[2].replace(/\/\/.*$|\/\*.*?\*\//g, '').trim());
  }
  if (!macros.size) return;
  const parsed = new Map<string, AST.Expr | null>();
  const body = (name: string): AST.Expr | null => {
    if (!parsed.has(name)) {
      let ex: AST.Expr | null = null;
      try {
        const st = parse(`BEGIN { ${macros.get(name)}; }`).probes[0]?.body.stmts;
        if (st?.length === 1 && st[0].kind === 'ExprStmt') ex = st[0].expr;
      } catch {
        ex = null;
      }
      parsed.set(name, ex);
    }
    return parsed.get(name)!;
  };
  const relocate = (n: unknown, loc: AST.Loc): unknown => {
    if (Array.isArray(n)) return n.map((x) => relocate(x, loc));
    if (!n || typeof n !== 'object') return n;
    const o: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(n)) o[k] = k === 'loc' || k.endsWith('Loc') ? loc : v instanceof Uint8Array ? v : relocate(v, loc);
    return o;
  };
  const rewrite = (n: unknown, depth: number): unknown => {
    if (Array.isArray(n)) return n.map((x) => rewrite(x, depth));
    if (!n || typeof n !== 'object' || !('kind' in n)) return n;
    const node = n as { kind: string; name?: string; loc: AST.Loc };
    if (node.kind === 'Builtin' && node.name && macros.has(node.name) && depth < 16) {
      const ex = body(node.name);
      if (ex) return rewrite(relocate(ex, node.loc), depth + 1);
      return n;
    }
    const o = n as Record<string, unknown>;
    for (const [k, v] of Object.entries(o)) if (k !== 'loc' && v && typeof v === 'object') o[k] = rewrite(v, depth);
    return n;
  };
  for (const p of ast.probes) {
    if (p.predicate) p.predicate = rewrite(p.predicate, 0) as AST.Expr;
    rewrite(p.body, 0);
  }
}

/**
 * Compiles a program. Throws CompileError with every diagnostic (bpftrace's
 * format) when the program is wrong; nothing has touched the kernel then.
 */
export function compile(source: string, file: string, options: Partial<CompileOptions> = {}, parsed?: AST.Program): Compiled {
  const opts: CompileOptions = { ...defaultOptions(), ...options };
  const ast = parsed ?? parse(source, file);
  expandMacros(ast);
  const diags: Diagnostic[] = [];
  applyConfig(ast, opts, diags);
  scopeVariables(ast, diags);
  const fail = (ds: Diagnostic[]): never => {
    throw new CompileError(ds, file, source);
  };
  if (diags.some((d) => d.severity === 'error')) fail(diags);

  const provs = providers({ maxStrlen: opts.maxStrlen });
  const expanded: { probe: AST.Probe; targets: ProbeTarget[] }[] = [];
  for (const probe of ast.probes) {
    const targets: ProbeTarget[] = [];
    // `probe` is a literal per program, so a wildcard then needs one program per
    // function (bpftrace's full expansion); so does `func` when several attach
    // points could mix per-function strings with a multi program's addresses.
    // A multi program's `func` is a symbol address, which cannot be compared
    // with a string: a probe that does so gets per-function programs too.
    const expandAll = usesBuiltin(probe, 'probe') || (probe.attachPoints.length > 1 && usesBuiltin(probe, 'func')) || comparesFunc(probe);
    for (const ap of probe.attachPoints) {
      try {
        targets.push(...expand(provs, ap, { pid: opts.pid, positional: opts.positional, unsafe: opts.unsafe, expandAll }));
      } catch (e) {
        if (!(e instanceof ProbeError)) throw e;
        diags.push({ severity: 'error', message: e.message, loc: ap.loc, hint: e.hint });
      }
    }
    expanded.push({ probe, targets });
  }
  if (!ast.probes.length) diags.push({ severity: 'error', message: 'No probes to attach', loc: null });
  if (diags.some((d) => d.severity === 'error')) fail(diags);

  const reg = builtinRegistry();
  const res = new Resources();
  const ctypes = new CTypes(ast.definitions.map((d) => d.text));
  const types = new Map<ProbeTarget, ProbeTypes>();
  let checker!: Checker;
  // Two passes: the first learns every map's type (a map may be read in a
  // probe written before the one that assigns it); the second reports.
  for (let pass = 0; pass < 2; pass++) {
    res.events.length = 0;
    res.seenPid = undefined;
    checker = new Checker(ast, reg, opts, res, ctypes);
    for (const { probe, targets } of expanded) for (const t of targets) types.set(t, checker.checkProbe(probe, t));
  }
  const errors = checker.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) fail(dedupe(checker.diagnostics));
  for (const m of res.maps.values()) {
    if (m.value.k === 'none') fail([{ severity: 'error', message: `Undefined map: @${m.name}`, loc: m.loc }]);
  }

  const probes: CompiledProbe[] = [];
  let scratchSize = 8;
  for (const { probe, targets } of expanded) {
    for (const target of targets) {
      const gen = new ProbeGen(reg, opts, res, target, types.get(target)!, checker.eventsByCall);
      try {
        const code = gen.generate(probe);
        if (code.stackMax > MAX_STACK) {
          fail([{ severity: 'error', message: `The probe needs ${code.stackMax} bytes of BPF stack (limit ${MAX_STACK}): use fewer variables or smaller keys`, loc: probe.loc }]);
        }
        scratchSize = Math.max(scratchSize, code.scratchMax);
        probes.push({ probe, target, code });
      } catch (e) {
        if (e instanceof CodegenError) fail([{ severity: 'error', message: e.message, loc: e.loc }]);
        throw e;
      }
    }
  }
  return { ast, res, probes, scratchSize, opts, providers: provs, warnings: checker.diagnostics.filter((d) => d.severity === 'warning') };
}

/** Whether the probe's predicate or body reads builtin variable `name`. */
function usesBuiltin(probe: AST.Probe, name: string): boolean {
  const walk = (n: unknown): boolean => {
    if (Array.isArray(n)) return n.some(walk);
    if (!n || typeof n !== 'object' || n instanceof Uint8Array) return false;
    const o = n as { kind?: string; name?: string };
    if (o.kind === 'Builtin' && o.name === name) return true;
    return Object.entries(n).some(([k, v]) => k !== 'loc' && v !== null && typeof v === 'object' && walk(v));
  };
  return walk(probe.predicate) || walk(probe.body);
}

/** Whether `func` is an operand of a binary operator or of a string comparison call. */
function comparesFunc(probe: AST.Probe): boolean {
  const isFunc = (e: unknown): boolean => !!e && (e as { kind?: string; name?: string }).kind === 'Builtin' && (e as { name?: string }).name === 'func';
  const walk = (n: unknown): boolean => {
    if (Array.isArray(n)) return n.some(walk);
    if (!n || typeof n !== 'object' || n instanceof Uint8Array) return false;
    const o = n as { kind?: string; name?: string; left?: unknown; right?: unknown; args?: unknown[] };
    if (o.kind === 'Binary' && (isFunc(o.left) || isFunc(o.right))) return true;
    if (o.kind === 'Call' && (o.name === 'strcmp' || o.name === 'strncmp' || o.name === 'strcontains') && o.args?.some(isFunc)) return true;
    return Object.entries(n).some(([k, v]) => k !== 'loc' && v !== null && typeof v === 'object' && walk(v));
  };
  return walk(probe.predicate) || walk(probe.body);
}

function dedupe(ds: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return ds.filter((d) => {
    const k = `${d.loc?.start}:${d.loc?.end}:${d.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
