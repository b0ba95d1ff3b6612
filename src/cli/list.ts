// `-l [pattern]`: lists probes; with a program, the probes it would attach.
import { providers } from '../probes/index.js';
import { globToRegExp } from '../probes/provider.js';
import type { CliArgs } from './args.js';
import type { Io } from './trace.js';

export function runList(args: CliArgs, io: Io): number {
  const provs = providers({ maxStrlen: 1024 });
  const pattern = args.listPattern ?? '*';
  const [prov] = pattern.includes(':') ? pattern.split(':') : ['*'];
  const re = globToRegExp(prov);
  const out: string[] = [];
  for (const p of provs) {
    if (!p.list) continue;
    if (prov !== '*' && !p.names.some((n) => re.test(n))) continue;
    out.push(...p.list(pattern.includes(':') ? pattern : `*:${pattern}`, args.verbose));
  }
  io.out(out.map((l) => l + '\n').join(''));
  return 0;
}
