// Argument checks shared by the builtins, worded the way bpftrace 0.17 words
// them ("requires one argument", "takes up to 2 arguments", "only supports
// integer arguments (string provided)"), and reported at the whole call.
import type { Call } from '../lang/ast.js';
import { isInt, kindName } from '../analysis/types.js';
import type { TypeCtx } from './registry.js';

const count = (n: number): string => (n === 0 ? 'no arguments' : n === 1 ? 'one argument' : `${n} arguments`);

/** Checks that `call` has between `min` and `max` arguments. */
export function argCount(call: Call, t: TypeCtx, min: number, max = min): void {
  const n = call.args.length;
  if (n >= min && n <= max) return;
  if (min === max) t.error(call.loc, `${call.name}() requires ${count(min)} (${n} provided)`);
  if (n < min) t.error(call.loc, `${call.name}() requires at least ${count(min)} (${n} provided)`);
  t.error(call.loc, `${call.name}() takes up to ${max} arguments (${n} provided)`);
}

/** Checks that argument `i` is an integer. */
export function intArg(call: Call, t: TypeCtx, i: number): void {
  const ty = t.typeOf(call.args[i]);
  if (!isInt(ty)) t.error(call.loc, `${call.name}() only supports integer arguments (${kindName(ty)} provided)`);
}

/** The probe type as bpftrace names it in messages: `BEGIN`/`END` for the special probes. */
export function probeTypeName(t: TypeCtx): string {
  return t.target.special ? t.target.special.toUpperCase() : t.target.provider;
}
