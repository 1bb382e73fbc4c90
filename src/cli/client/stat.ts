/** `sluice stat [CONTAINER [OBJECT]]`: swiftclient's stat. */
import { UsageError } from '../errors';
import type { CliIo } from '../main';
import { parseCommand, printFields, printJson, runCommand } from './command';

export const STAT_USAGE = `Usage: sluice stat [CONTAINER [OBJECT]] [--json]

Shows the account, a container or an object: counts, sizes, ACLs, metadata.`;

export async function runStat(argv: string[], io: CliIo): Promise<number> {
  const cmd = parseCommand(argv, {}, STAT_USAGE, io);
  if (!cmd) return 0;
  const [container, object, extra] = cmd.positionals;
  if (extra !== undefined) throw new UsageError('stat takes at most CONTAINER and OBJECT', STAT_USAGE);
  return runCommand(io, async () => {
    const { store } = cmd.connection();
    const storageUrl = await store.storageUrl();
    const account = decodeURIComponent(storageUrl.replace(/\/+$/, '').split('/').pop() ?? '');
    const meta = (m: Record<string, string>) => Object.entries(m).map(([k, v]) => [`Meta ${k}`, v] as const);
    if (container === undefined) {
      const s = await store.account.stat();
      if (cmd.values.json) printJson(io, { account, containers: s.containerCount, objects: s.objectCount, bytes: s.bytesUsed, metadata: s.metadata, headers: s.headers });
      else printFields(io, [['Account', account], ['Containers', s.containerCount], ['Objects', s.objectCount], ['Bytes', s.bytesUsed], ...meta(s.metadata)]);
    } else if (object === undefined) {
      const s = await store.container(container).stat();
      if (cmd.values.json) printJson(io, { account, container, objects: s.objectCount, bytes: s.bytesUsed, read: s.read, write: s.write, storagePolicy: s.storagePolicy, metadata: s.metadata, headers: s.headers });
      else
        printFields(io, [['Account', account], ['Container', container], ['Objects', s.objectCount], ['Bytes', s.bytesUsed], ['Read ACL', s.read ?? ''], ['Write ACL', s.write ?? ''], ['Storage Policy', s.storagePolicy], ...meta(s.metadata)]);
    } else {
      const s = await store.object(container, object).stat();
      const lastModified = s.lastModified?.toUTCString();
      if (cmd.values.json) printJson(io, { account, container, object, contentType: s.contentType, contentLength: s.contentLength, etag: s.etag, lastModified, largeObject: s.largeObject, manifest: s.manifest, metadata: s.metadata, headers: s.headers });
      else
        printFields(io, [
          ['Account', account],
          ['Container', container],
          ['Object', object],
          ['Content Type', s.contentType],
          ['Content Length', s.contentLength],
          ['Last Modified', lastModified],
          ['ETag', s.etag],
          ['Manifest', s.manifest],
          ['Large Object', s.largeObject],
          ...meta(s.metadata),
        ]);
    }
    return 0;
  });
}
