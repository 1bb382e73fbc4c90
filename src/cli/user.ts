/**
 * `sluice user add|remove|list`: manage the TempAuth user store (`users_db` in
 * `[filter:tempauth]`). A running proxy sees changes at the next /auth; no restart.
 * Keys are read from --key, stdin or generated, and are never printed except a generated one,
 * once; listings never show keys or hashes.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { groupError, keyError, nameError, storageUrlError, UserStore } from '../middleware/tempauth/user-store';
import { UsageError } from './errors';
import type { CliIo } from './main';

export const USER_USAGE = `Usage: sluice user add ACCOUNT:USER [--key KEY | --key-stdin] [--group G ...] [--admin]
                       [--reseller-admin] [--storage-url URL] [--store FILE | --data-dir DIR]
       sluice user remove ACCOUNT:USER [--store FILE | --data-dir DIR]
       sluice user list [--store FILE | --data-dir DIR]

Manages the TempAuth user store, a SQLite file of salted scrypt hashes of keys, named by
"users_db = FILE" in [filter:tempauth] (sluice start uses DIR/etc/users.db). A running proxy
sees additions and removals at the next /auth request; tokens already issued stay valid until
they expire (token_life).

  --store           the user store file
  --data-dir        use DIR/etc/users.db (default when neither is given: ./data, as sluice start)
  --key             the user's key (visible to other local users in the process list; prefer
                    --key-stdin); without --key or --key-stdin a random key is generated and
                    printed once
  --key-stdin       read the key from standard input (one trailing newline is dropped)
  --group           an extra group, repeatable (e.g. a group named in container ACLs)
  --admin           the .admin group: owner of the account
  --reseller-admin  the .reseller_admin group: owner of every account
  --storage-url     the storage URL returned by /auth (default $HOST/v1/<reseller prefix><ACCOUNT>)`;

function storePath(values: { store?: string; 'data-dir'?: string }): string {
  if (values.store !== undefined && values['data-dir'] !== undefined) throw new UsageError('give --store or --data-dir, not both', USER_USAGE);
  if (values.store !== undefined) {
    if (!values.store) throw new UsageError('--store needs a file name', USER_USAGE);
    return resolve(values.store);
  }
  return join(resolve(values['data-dir'] || 'data'), 'etc', 'users.db');
}

function parseName(arg: string | undefined): { account: string; user: string } {
  if (arg === undefined) throw new UsageError('missing ACCOUNT:USER', USER_USAGE);
  const colon = arg.indexOf(':');
  if (colon < 0) throw new UsageError(`${JSON.stringify(arg)} is not ACCOUNT:USER`, USER_USAGE);
  const account = arg.slice(0, colon);
  const user = arg.slice(colon + 1);
  const bad = nameError('account', account) ?? nameError('user', user);
  if (bad) throw new UsageError(bad, USER_USAGE);
  return { account, user };
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    size += chunk.length;
    // A key, not a file: refuse to read without bound.
    if (size > 64 * 1024) throw new UsageError('--key-stdin: more than 64 KiB on standard input', USER_USAGE);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

const COMMON = { store: { type: 'string' }, 'data-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' } } as const;

async function add(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      ...COMMON,
      key: { type: 'string' },
      'key-stdin': { type: 'boolean' },
      group: { type: 'string', multiple: true },
      admin: { type: 'boolean' },
      'reseller-admin': { type: 'boolean' },
      'storage-url': { type: 'string' },
    },
  });
  if (values.help) {
    io.out(USER_USAGE);
    return 0;
  }
  if (positionals.length > 1) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[1])}`, USER_USAGE);
  const { account, user } = parseName(positionals[0]);
  if (values.key !== undefined && values['key-stdin']) throw new UsageError('give --key or --key-stdin, not both', USER_USAGE);
  const groups = [...(values.admin ? ['.admin'] : []), ...(values['reseller-admin'] ? ['.reseller_admin'] : []), ...(values.group ?? [])];
  const bad = groups.map(groupError).find(Boolean) ?? (values['storage-url'] === undefined ? undefined : storageUrlError(values['storage-url']));
  if (bad) throw new UsageError(bad, USER_USAGE);
  const path = storePath(values);
  let key = values.key;
  if (values['key-stdin']) key = await readStdin();
  const generated = key === undefined;
  // Hex: never starts with '-' (which --key would take for an option) and needs no quoting.
  if (generated) key = randomBytes(20).toString('hex');
  const keyBad = keyError(key!);
  if (keyBad) throw new UsageError(keyBad, USER_USAGE);
  const store = new UserStore(path);
  try {
    await store.add(account, user, key!, { groups, storageUrl: values['storage-url'] });
  } finally {
    store.close();
  }
  io.out(`added ${account}:${user} to ${path}`);
  if (generated) io.out(`key: ${key} (shown only this once)`);
  return 0;
}

function remove(args: string[], io: CliIo): number {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: COMMON });
  if (values.help) {
    io.out(USER_USAGE);
    return 0;
  }
  if (positionals.length > 1) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[1])}`, USER_USAGE);
  const { account, user } = parseName(positionals[0]);
  const path = storePath(values);
  // Never create a store just to find it empty.
  if (!existsSync(path)) throw new Error(`no user store at ${path}`);
  const store = new UserStore(path);
  try {
    if (!store.remove(account, user)) throw new Error(`no user ${account}:${user} in ${path}`);
  } finally {
    store.close();
  }
  io.out(`removed ${account}:${user} from ${path} (tokens already issued stay valid until they expire)`);
  return 0;
}

function list(args: string[], io: CliIo): number {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: COMMON });
  if (values.help) {
    io.out(USER_USAGE);
    return 0;
  }
  if (positionals.length) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`, USER_USAGE);
  const path = storePath(values);
  // Read-only: listing never creates or changes the file.
  const store = new UserStore(path, { readonly: true });
  try {
    const users = store.list();
    if (!store.isOpen) throw new Error(`no user store at ${path}`);
    const rows = [['USER', 'GROUPS', 'STORAGE URL', 'CREATED'], ...users.map((u) => [`${u.account}:${u.user}`, u.groups.join(',') || '-', u.storageUrl ?? '(default)', u.createdAt])];
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    for (const r of rows) io.out(r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '));
    return 0;
  } finally {
    store.close();
  }
}

export async function runUser(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'add') return add(rest, io);
  if (sub === 'remove') return remove(rest, io);
  if (sub === 'list') return list(rest, io);
  if (sub === '--help' || sub === '-h' || sub === 'help') {
    io.out(USER_USAGE);
    return 0;
  }
  throw new UsageError(sub === undefined ? 'user needs a subcommand (add, remove or list)' : `unknown user subcommand ${JSON.stringify(sub)}`, USER_USAGE);
}
