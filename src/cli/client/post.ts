/** `sluice post [CONTAINER [OBJECT]]`: swiftclient's post (metadata, container ACLs, headers). */
import { validateContainerAcl } from '../../client/acl';
import { ClientHttpError } from '../../client/types';
import { UsageError } from '../errors';
import type { CliIo } from '../main';
import { parseCommand, parseMeta, runCommand } from './command';

export const POST_USAGE = `Usage: sluice post [CONTAINER [OBJECT]] [-m NAME:VALUE]... [-H NAME:VALUE]...
                   [-r READ_ACL] [-w WRITE_ACL]

Updates metadata of the account, a container (created when missing, as swiftclient does) or
an object. -r/-w set the container's X-Container-Read/-Write, checked before sending (see
"sluice acl grant --container" for building them).`;

export async function runPost(argv: string[], io: CliIo): Promise<number> {
  const cmd = parseCommand(argv, { meta: { type: 'string', short: 'm', multiple: true }, header: { type: 'string', short: 'H', multiple: true }, read: { type: 'string', short: 'r' }, write: { type: 'string', short: 'w' } }, POST_USAGE, io);
  if (!cmd) return 0;
  const [container, object, extra] = cmd.positionals;
  if (extra !== undefined) throw new UsageError('post takes at most CONTAINER and OBJECT', POST_USAGE);
  const meta = parseMeta(cmd.values.meta);
  const headers = parseMeta(cmd.values.header, '--header');
  const { read, write } = cmd.values;
  if ((read !== undefined || write !== undefined) && (container === undefined || object !== undefined)) throw new UsageError('-r and -w apply to a container', POST_USAGE);
  return runCommand(io, async () => {
    // Checked (and cleaned as the server would) before any request.
    if (read !== undefined) headers['X-Container-Read'] = validateContainerAcl('read', read);
    if (write !== undefined) headers['X-Container-Write'] = validateContainerAcl('write', write);
    const { store } = cmd.connection();
    if (container === undefined) await store.account.post(meta, { headers });
    else if (object === undefined) {
      try {
        await store.container(container).post(meta, { headers });
      } catch (err) {
        // swiftclient's post creates a container that is not there.
        if (!(err instanceof ClientHttpError && err.status === 404)) throw err;
        await store.container(container).create(meta, { headers });
      }
    } else await store.object(container, object).post(meta, { headers });
    return 0;
  });
}
