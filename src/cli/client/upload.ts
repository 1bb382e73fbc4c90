/**
 * `sluice upload CONTAINER FILE...`: swiftclient's upload: files and directories, large files
 * in segments (SLO unless --use-dlo) sent in parallel, an interrupted upload resumed by skipping
 * segments already stored with the same MD5, progress on stderr.
 */
import { UsageError } from '../errors';
import type { CliIo } from '../main';
import { describeFailure, parseCommand, parseMeta, printJson, runCommand } from './command';
import { transferProgress } from './progress';
import { eachLimited, filesToUpload, parseSize } from './transfer-list';

export const UPLOAD_USAGE = `Usage: sluice upload CONTAINER FILE... [-S SIZE] [--use-dlo] [--segment-container C]
                     [--leave-segments] [--object-name NAME] [--segment-threads N]
                     [--object-threads N] [-m NAME:VALUE]... [-H NAME:VALUE]...

Uploads files (directories recursively) into CONTAINER, creating it when missing.
  -S, --segment-size    files larger than SIZE (bytes, or 10M, 1G) go up in segments of SIZE,
                        with an SLO manifest (--use-dlo: a DLO manifest); segments already
                        stored with the same MD5 (an interrupted upload) are not sent again
  --segment-container   where segments go (default CONTAINER_segments)
  --leave-segments      keep the segments of an object this upload replaces
  --object-name         the object's name (one FILE), or the prefix for a directory's objects
  --segment-threads     segments sent at once (default 10)
  --object-threads      files sent at once (default 10)
Progress bars with throughput and ETA go to stderr on a terminal; plain lines otherwise.`;

function threads(text: string | undefined, what: string): number {
  if (text === undefined) return 10;
  if (!/^\d{1,3}$/.test(text) || Number(text) < 1) throw new UsageError(`${what} must be a whole number from 1 to 999`, UPLOAD_USAGE);
  return Number(text);
}

export async function runUpload(argv: string[], io: CliIo): Promise<number> {
  const cmd = parseCommand(
    argv,
    {
      'segment-size': { type: 'string', short: 'S' },
      'use-dlo': { type: 'boolean' },
      'use-slo': { type: 'boolean' },
      'segment-container': { type: 'string' },
      'leave-segments': { type: 'boolean' },
      'object-name': { type: 'string' },
      'segment-threads': { type: 'string' },
      'object-threads': { type: 'string' },
      meta: { type: 'string', short: 'm', multiple: true },
      header: { type: 'string', short: 'H', multiple: true },
    },
    UPLOAD_USAGE,
    io,
  );
  if (!cmd) return 0;
  const [container, ...paths] = cmd.positionals;
  if (container === undefined || paths.length === 0) throw new UsageError('upload needs a CONTAINER and at least one FILE', UPLOAD_USAGE);
  const v = cmd.values;
  if (v['use-dlo'] && v['use-slo']) throw new UsageError('give --use-slo or --use-dlo, not both', UPLOAD_USAGE);
  const segmentSize = v['segment-size'] !== undefined ? parseSize(v['segment-size'], '--segment-size') : undefined;
  const segmentThreads = threads(v['segment-threads'], '--segment-threads');
  const objectThreads = threads(v['object-threads'], '--object-threads');
  const meta = parseMeta(v.meta);
  const headers = parseMeta(v.header, '--header');
  const files = filesToUpload(paths, v['object-name']);
  return runCommand(io, async () => {
    const { store } = cmd.connection();
    await store.container(container).create();
    const progress = transferProgress({ stream: process.stderr, quiet: v.quiet === true || v.json === true });
    const results: unknown[] = [];
    let failures = 0;
    try {
      await eachLimited(files, objectThreads, async (file) => {
        progress.start(file.object, file.size);
        let sent = 0;
        try {
          const r = await store.upload(container, file.object, file.path, {
            segmentSize: segmentSize !== undefined && file.size > segmentSize ? segmentSize : undefined,
            useDlo: v['use-dlo'],
            segmentContainer: v['segment-container'],
            leaveSegments: v['leave-segments'],
            concurrency: segmentThreads,
            meta,
            headers,
            onProgress: (p) => {
              progress.advance(file.object, p.bytesDone - sent, p.bytesTotal);
              sent = p.bytesDone;
            },
          });
          progress.finish(file.object);
          results.push({ object: r.object, path: file.path, bytes: r.bytes, etag: r.etag, largeObject: r.largeObject, segmentsUploaded: r.segmentsUploaded, segmentsSkipped: r.segmentsSkipped });
        } catch (err) {
          failures++;
          progress.finish(file.object, describeFailure(err));
          results.push({ object: file.object, path: file.path, error: describeFailure(err) });
        }
      });
    } finally {
      progress.close();
    }
    if (v.json) printJson(io, results);
    return failures > 0 ? 1 : 0;
  });
}
