/**
 * `sluice download CONTAINER [OBJECT...]`: swiftclient's download, with the ETag checked
 * (for plain objects) and progress on stderr. Object names never write outside the output
 * directory.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { UsageError } from '../errors';
import type { CliIo } from '../main';
import { describeFailure, parseCommand, printJson, runCommand } from './command';
import { transferProgress } from './progress';
import { eachLimited, localPathFor } from './transfer-list';

export const DOWNLOAD_USAGE = `Usage: sluice download CONTAINER [OBJECT...] [-o FILE] [-D DIR] [-p PREFIX]
                       [--range BYTES] [--ignore-checksum] [--object-threads N]

Downloads objects (without OBJECT, every object of CONTAINER) to files named after them.
  -o, --output       the file for a single OBJECT ("-": stdout)
  -D, --output-dir   the directory to write into (default: the current one)
  -p, --prefix       only objects whose names start with PREFIX
  --range            bytes=START-END of a single OBJECT (as an HTTP Range)
  --ignore-checksum  do not check the body against the ETag
  --object-threads   objects fetched at once (default 10)`;

export async function runDownload(argv: string[], io: CliIo): Promise<number> {
  const cmd = parseCommand(
    argv,
    { output: { type: 'string', short: 'o' }, 'output-dir': { type: 'string', short: 'D' }, prefix: { type: 'string', short: 'p' }, range: { type: 'string' }, 'ignore-checksum': { type: 'boolean' }, 'object-threads': { type: 'string' } },
    DOWNLOAD_USAGE,
    io,
  );
  if (!cmd) return 0;
  const [container, ...objects] = cmd.positionals;
  const v = cmd.values;
  if (container === undefined) throw new UsageError('download needs a CONTAINER', DOWNLOAD_USAGE);
  if ((v.output !== undefined || v.range !== undefined) && objects.length !== 1) throw new UsageError('--output and --range take exactly one OBJECT', DOWNLOAD_USAGE);
  if (v.prefix !== undefined && objects.length > 0) throw new UsageError('give OBJECTs or --prefix, not both', DOWNLOAD_USAGE);
  if (v.range !== undefined && !/^bytes=\d*-\d*(,\d*-\d*)*$/.test(v.range)) throw new UsageError('--range must look like bytes=0-99', DOWNLOAD_USAGE);
  const limit = v['object-threads'] === undefined ? 10 : Number(v['object-threads']);
  if (!Number.isInteger(limit) || limit < 1 || limit > 999) throw new UsageError('--object-threads must be a whole number from 1 to 999', DOWNLOAD_USAGE);
  const toStdout = v.output === '-';
  return runCommand(io, async () => {
    const { store } = cmd.connection();
    const names = [...objects];
    if (names.length === 0) for await (const o of store.container(container).objects({ prefix: v.prefix })) if (o.kind === 'object') names.push(o.name);
    const progress = transferProgress({ stream: process.stderr, quiet: v.quiet === true || v.json === true || toStdout });
    const results: unknown[] = [];
    let failures = 0;
    const one = async (name: string) => {
      progress.start(name, undefined);
      let got = 0;
      try {
        const dest = toStdout ? process.stdout : v.output ?? localPathFor(v['output-dir'] ?? '.', name);
        if (typeof dest === 'string') mkdirSync(dirname(dest), { recursive: true });
        const r = await store.download(container, name, dest, {
          range: v.range,
          verifyEtag: !v['ignore-checksum'],
          onProgress: (p) => {
            progress.advance(name, p.bytesDone - got, p.bytesTotal);
            got = p.bytesDone;
          },
        });
        progress.finish(name);
        results.push({ object: name, path: typeof dest === 'string' ? dest : '-', bytes: r.bytes, etag: r.etag, verified: r.verified });
      } catch (err) {
        failures++;
        progress.finish(name, describeFailure(err));
        results.push({ object: name, error: describeFailure(err) });
      }
    };
    try {
      await eachLimited(names, limit, one);
    } finally {
      progress.close();
    }
    if (v.json) printJson(io, results);
    return failures > 0 ? 1 : 0;
  });
}
