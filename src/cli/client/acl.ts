/**
 * `sluice acl show|grant|revoke`: account ACLs (X-Account-Access-Control, v2 JSON) and
 * container ACLs (X-Container-Read/-Write), read and changed with the client's ACL helpers,
 * which validate before sending so a typo cannot open an account or a container.
 */
import { ACCOUNT_ACL_LEVELS, accountAcl, validateContainerAcl, type AccountAclLevel } from '../../client/acl';
import { UsageError } from '../errors';
import type { CliIo } from '../main';
import { parseCommand, printFields, printJson, runCommand } from './command';

export const ACL_CHANGE_USAGE = `Usage: sluice acl show [CONTAINER] [--json]
       sluice acl grant admin|read-write|read-only IDENTITY
       sluice acl grant --container C --read|--write IDENTITY
       sluice acl revoke IDENTITY [--container C]

Account ACLs give IDENTITY (ACCOUNT:USER or a group for TempAuth, PROJECT_ID:USER_ID or
PROJECT_ID:* for Keystone) one level on the whole account; the account's owner (or an ACL
admin) may change them. Container ACLs add IDENTITY to the container's read or write ACL;
for a container, IDENTITY may also be a referrer item (.r:example.com, .rlistings).
"revoke" takes IDENTITY out of every level (with --container, out of both container ACLs).`;

function items(value: string | undefined): string[] {
  return (value ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
}

export async function runAclChange(sub: 'show' | 'grant' | 'revoke', argv: string[], io: CliIo): Promise<number> {
  const cmd = parseCommand(argv, { container: { type: 'string', short: 'c' }, read: { type: 'boolean' }, write: { type: 'boolean' } }, ACL_CHANGE_USAGE, io);
  if (!cmd) return 0;
  const { container, read, write, json } = cmd.values;
  const args = cmd.positionals;
  if (sub === 'show') {
    if (args.length > 1 || (args.length === 1 && container !== undefined)) throw new UsageError('acl show takes at most one CONTAINER', ACL_CHANGE_USAGE);
    const c = args[0] ?? container;
    return runCommand(io, async () => {
      const { store } = cmd.connection();
      if (c === undefined) {
        const acl = await accountAcl(store.account).getAccountAcl();
        if (json) printJson(io, acl);
        else printFields(io, ACCOUNT_ACL_LEVELS.map((l) => [l, acl[l].join(', ') || '(none)'] as const));
      } else {
        const s = await store.container(c).stat();
        if (json) printJson(io, { read: items(s.read), write: items(s.write) });
        else printFields(io, [['read', s.read || '(none)'], ['write', s.write || '(none)']]);
      }
      return 0;
    });
  }
  if (container === undefined && (read || write)) throw new UsageError('--read and --write need --container', ACL_CHANGE_USAGE);
  let level: AccountAclLevel | undefined;
  let identity: string;
  if (sub === 'grant' && container === undefined) {
    if (args.length !== 2) throw new UsageError('acl grant takes LEVEL IDENTITY', ACL_CHANGE_USAGE);
    if (!(ACCOUNT_ACL_LEVELS as readonly string[]).includes(args[0]!)) throw new UsageError(`LEVEL must be one of ${ACCOUNT_ACL_LEVELS.join(', ')}, not ${JSON.stringify(args[0])}`, ACL_CHANGE_USAGE);
    level = args[0] as AccountAclLevel;
    identity = args[1]!;
  } else {
    if (args.length !== 1) throw new UsageError(`acl ${sub}${container !== undefined ? ' --container C' : ''} takes one IDENTITY`, ACL_CHANGE_USAGE);
    identity = args[0]!;
    if (sub === 'grant' && read === write) throw new UsageError('acl grant --container takes one of --read or --write', ACL_CHANGE_USAGE);
  }
  return runCommand(io, async () => {
    const { store } = cmd.connection();
    if (container === undefined) {
      const acls = accountAcl(store.account);
      const acl = sub === 'grant' ? await acls.grant(level!, identity) : await acls.revoke(identity);
      if (json) printJson(io, acl);
      else printFields(io, ACCOUNT_ACL_LEVELS.map((l) => [l, acl[l].join(', ') || '(none)'] as const));
      return 0;
    }
    const s = await store.container(container).stat();
    const current = { read: items(s.read), write: items(s.write) };
    const next = { read: current.read.filter((x) => x !== identity), write: current.write.filter((x) => x !== identity) };
    if (sub === 'grant') next[read ? 'read' : 'write'].push(identity);
    // Validated (and cleaned as the server would) before anything is sent.
    const headers: Record<string, string> = {};
    for (const kind of ['read', 'write'] as const) {
      if (next[kind].join(',') === current[kind].join(',')) continue;
      headers[kind === 'read' ? 'X-Container-Read' : 'X-Container-Write'] = next[kind].length ? validateContainerAcl(kind, next[kind].join(',')) : '';
    }
    if (Object.keys(headers).length > 0) await store.container(container).post({}, { headers });
    if (json) printJson(io, next);
    else printFields(io, [['read', next.read.join(', ') || '(none)'], ['write', next.write.join(', ') || '(none)']]);
    return 0;
  });
}
