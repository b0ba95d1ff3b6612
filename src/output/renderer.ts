// One interface over the two output formats, so the runtime picks a format
// once (`-f text|json`) and writes whatever the renderer returns. Every method
// returns the exact text to write (UTF-8 via encodeOutput()); "" means
// nothing is written.
import { formatDiagnostic, helperErrorMessage, type SourceRange } from './diagnostic.js';
import { strerror } from './errno.js';
import { attachedProbesJson, lostEventsJson, mapJson, messageJson, valueJson, type JsonOptions } from './json.js';
import { attachedProbesText, lostEventsText, mapText, valueLine, type TextOptions } from './text.js';
import type { MapSnapshot, Value } from './value.js';

export interface HelperError {
  /** The helper's name without "bpf_", e.g. "map_delete_elem". */
  helper: string;
  /** The helper's negative errno (or other return code). */
  retcode: number;
  file?: string;
  range: SourceRange;
  source?: string;
}

export interface Renderer {
  readonly format: 'text' | 'json';
  attachedProbes(n: number): string;
  lostEvents(n: number | bigint): string;
  /** Already formatted by formatPrintf(). */
  printf(text: string): string;
  /** time(): already formatted by formatStrftime(). */
  time(text: string): string;
  cat(text: string): string;
  /** system()'s captured output. */
  system(text: string): string;
  /** join(): the joined arguments (without the newline). */
  join(text: string): string;
  /** print(value). */
  value(v: Value): string;
  /** print(@m, top, div); top/div 0 mean "all" and "1". */
  map(m: MapSnapshot, top?: number, div?: number): string;
  /** After the last probe: a blank pair of lines, then every map by name. */
  exit(maps: MapSnapshot[]): string;
  /** A failed helper call; text mode writes it to stdout as a warning. */
  helperError(e: HelperError): string;
}

const byName = (maps: MapSnapshot[]) => [...maps].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

export function textRenderer(opts: TextOptions = {}): Renderer {
  return {
    format: 'text',
    attachedProbes: attachedProbesText,
    lostEvents: lostEventsText,
    printf: (t) => t,
    time: (t) => t,
    cat: (t) => t,
    system: (t) => t,
    join: (t) => `${t}\n`,
    value: (v) => valueLine(v, opts),
    map: (m, top = 0, div = 0) => mapText(m, top, div, opts),
    exit: (maps) => '\n\n' + byName(maps).map((m) => mapText(m, 0, 0, opts)).join(''),
    helperError: (e) => formatDiagnostic({
      level: 'WARNING', message: helperErrorMessage(e.helper, e.retcode, strerror), file: e.file, range: e.range, source: e.source,
    }),
  };
}

export function jsonRenderer(opts: JsonOptions = {}): Renderer {
  return {
    format: 'json',
    attachedProbes: attachedProbesJson,
    lostEvents: lostEventsJson,
    printf: (t) => messageJson('printf', t, opts),
    time: (t) => messageJson('time', t, opts),
    cat: (t) => messageJson('cat', t, opts),
    system: (t) => messageJson('syscall', t, opts),
    join: (t) => messageJson('join', t, opts),
    value: (v) => valueJson(v, opts),
    map: (m, top = 0, div = 0) => mapJson(m, top, div, opts),
    // 0.17 writes the two newlines in JSON mode too.
    exit: (maps) => '\n\n' + byName(maps).map((m) => mapJson(m, 0, 0, opts)).join(''),
    helperError: (e) =>
      `{"type": "helper_error", "helper": "${e.helper}", "retcode": ${e.retcode}, "line": ${e.range.line}, "col": ${e.range.column}}\n`,
  };
}

export function createRenderer(format: 'text' | 'json', opts: TextOptions & JsonOptions = {}): Renderer {
  return format === 'json' ? jsonRenderer(opts) : textRenderer(opts);
}
