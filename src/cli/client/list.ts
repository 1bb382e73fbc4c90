/** `sluice list [CONTAINER]`: swiftclient's list, paging through the whole listing. */
import { UsageError } from '../errors';
import type { CliIo } from '../main';
import { parseCommand, printJson, runCommand } from './command';
import { humanBytes } from './progress';

export const LIST_USAGE = `Usage: sluice list [CONTAINER] [--prefix P] [--delimiter D] [--long] [--lh] [--json]

Lists the account's containers, or a container's objects (every page).
  -p, --prefix      only names starting with P
  -d, --delimiter   roll names up to D into pseudo-directories (objects only)
  -l, --long        sizes and dates too; --lh: sizes in KiB/MiB/...`;

export async function runList(argv: string[], io: CliIo): Promise<number> {
  const cmd = parseCommand(argv, { prefix: { type: 'string', short: 'p' }, delimiter: { type: 'string', short: 'd' }, long: { type: 'boolean', short: 'l' }, lh: { type: 'boolean' } }, LIST_USAGE, io);
  if (!cmd) return 0;
  const [container, extra] = cmd.positionals;
  if (extra !== undefined) throw new UsageError('list takes at most one CONTAINER', LIST_USAGE);
  const { prefix, delimiter, json } = cmd.values;
  const long = cmd.values.long || cmd.values.lh;
  const size = (n: number) => (cmd.values.lh ? humanBytes(n) : String(n)).padStart(12);
  return runCommand(io, async () => {
    const { store } = cmd.connection();
    const all: unknown[] = [];
    if (container === undefined) {
      if (delimiter !== undefined) throw new UsageError('--delimiter applies to object listings only', LIST_USAGE);
      for await (const c of store.account.containers({ prefix })) {
        if (json) all.push(c);
        else io.out(long ? `${String(c.count).padStart(8)} ${size(c.bytes)} ${c.lastModified ?? ''.padEnd(26)} ${c.name}` : c.name);
      }
    } else {
      for await (const o of store.container(container).objects({ prefix, delimiter })) {
        if (json) all.push(o);
        else if (o.kind === 'subdir') io.out(long ? `${''.padStart(12)} ${''.padEnd(26)} ${o.subdir}` : o.subdir);
        else io.out(long ? `${size(o.bytes)} ${o.lastModified.padEnd(26)} ${o.name}` : o.name);
      }
    }
    if (json) printJson(io, all);
    return 0;
  });
}
