/**
 * `sluice tempurl METHOD TIME PATH KEY`: swiftclient's tempurl; signs locally, needs no
 * credentials. A PATH given as a whole URL keeps its scheme and host, as swiftclient does.
 */
import { parseArgs } from 'node:util';
import { generateTempUrl, type TempUrlDigest } from '../../client/object';
import { UsageError } from '../errors';
import type { CliIo } from '../main';
import { runCommand } from './command';

export const TEMPURL_USAGE = `Usage: sluice tempurl [--absolute] [--prefix-based] [--iso8601] [--ip-range RANGE]
                      [--digest sha1|sha256|sha512] METHOD TIME PATH KEY

Prints a temporary URL for PATH (/v1/ACCOUNT/CONTAINER/OBJECT, or a whole URL).
  TIME             seconds from now (or 10m, 2h, 1d); with --absolute a Unix time, or an
                   ISO 8601 time (2030-01-01T00:00:00Z)
  --prefix-based   sign every object whose name starts with PATH's last part
  --iso8601        show the expiry as an ISO 8601 time
  --ip-range       only clients from this address or CIDR range
  --digest         default sha256
KEY is the account's or container's Temp-URL-Key (prefer putting it in a variable:
arguments are visible to other local users).`;

export async function runTempurl(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { absolute: { type: 'boolean' }, 'prefix-based': { type: 'boolean' }, iso8601: { type: 'boolean' }, 'ip-range': { type: 'string' }, digest: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
  });
  if (values.help) {
    io.out(TEMPURL_USAGE);
    return 0;
  }
  if (positionals.length !== 4) throw new UsageError('tempurl takes METHOD TIME PATH KEY', TEMPURL_USAGE);
  const [method, time, path, key] = positionals as [string, string, string, string];
  const digest = values.digest ?? 'sha256';
  if (!['sha1', 'sha256', 'sha512'].includes(digest)) throw new UsageError('--digest must be sha1, sha256 or sha512', TEMPURL_USAGE);
  let base = '';
  let signedPath = path;
  if (/^https?:\/\//i.test(path)) {
    const url = new URL(path);
    base = `${url.protocol}//${url.host}`;
    signedPath = url.pathname;
  }
  return runCommand(io, async () => {
    let url: string;
    try {
      url = generateTempUrl({
        method,
        path: signedPath,
        key,
        digest: digest as TempUrlDigest,
        prefix: values['prefix-based'],
        iso8601: values.iso8601,
        ipRange: values['ip-range'],
        ...(values.absolute ? { expiresAt: /^\d+$/.test(time) ? Number(time) : time } : { seconds: time }),
      });
    } catch (err) {
      throw new UsageError((err as Error).message, TEMPURL_USAGE);
    }
    io.out(base + url);
    return 0;
  });
}
