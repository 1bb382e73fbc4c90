/** `sluice copy CONTAINER OBJECT... [--destination /C/O]`: swiftclient's copy (server side). */
import { UsageError } from '../errors';
import type { CliIo } from '../main';
import { describeFailure, parseCommand, parseMeta, printJson, runCommand } from './command';

export const COPY_USAGE = `Usage: sluice copy CONTAINER OBJECT... [-d /CONTAINER[/OBJECT]] [-M] [-m NAME:VALUE]...

Copies objects on the server. Without --destination an object is copied onto itself (to
change its metadata); with a destination container and several objects, each keeps its name.
  -d, --destination     /CONTAINER or /CONTAINER/OBJECT (one OBJECT only)
  -M, --fresh-metadata  the copy gets only the metadata given with -m
  -m, --meta            NAME:VALUE metadata for the copy`;

export async function runCopy(argv: string[], io: CliIo): Promise<number> {
  const cmd = parseCommand(argv, { destination: { type: 'string', short: 'd' }, 'fresh-metadata': { type: 'boolean', short: 'M' }, meta: { type: 'string', short: 'm', multiple: true } }, COPY_USAGE, io);
  if (!cmd) return 0;
  const [container, ...objects] = cmd.positionals;
  if (container === undefined || objects.length === 0) throw new UsageError('copy needs a CONTAINER and at least one OBJECT', COPY_USAGE);
  const meta = parseMeta(cmd.values.meta);
  let destContainer = container;
  let destObject: string | undefined;
  const dest = cmd.values.destination;
  if (dest !== undefined) {
    const m = /^\/([^/]+)(?:\/(.+))?$/s.exec(dest);
    if (!m) throw new UsageError('--destination must be /CONTAINER or /CONTAINER/OBJECT', COPY_USAGE);
    destContainer = m[1]!;
    destObject = m[2];
    if (destObject !== undefined && objects.length > 1) throw new UsageError('a --destination with an object name takes one OBJECT', COPY_USAGE);
  }
  return runCommand(io, async () => {
    const { store } = cmd.connection();
    const copied: { from: string; to: string; etag: string }[] = [];
    const failed: { from: string; error: string }[] = [];
    for (const name of objects) {
      const to = { container: destContainer, object: destObject ?? name };
      try {
        const r = await store.object(container, name).copy(to, { freshMetadata: cmd.values['fresh-metadata'], meta });
        copied.push({ from: `${container}/${name}`, to: `${to.container}/${to.object}`, etag: r.etag });
        if (!cmd.values.json && !cmd.values.quiet) io.out(`${container}/${name} copied to /${to.container}/${to.object}`);
      } catch (err) {
        failed.push({ from: `${container}/${name}`, error: describeFailure(err) });
        if (!cmd.values.json) io.err(`Error copying ${container}/${name}: ${describeFailure(err)}`);
      }
    }
    if (cmd.values.json) printJson(io, { copied, failed });
    return failed.length > 0 ? 1 : 0;
  });
}
