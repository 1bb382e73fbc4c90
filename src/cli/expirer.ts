/**
 * `sluice object-expirer`: the object expirer as its own process, in the foreground until
 * SIGTERM or SIGINT (or, with --once, for one pass).
 */
import { constants } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ObjectExpirer } from '../../servers/expirer/expirer';
import { loadSwiftConf } from '../common/swift-conf';
import { UsageError } from './errors';
import { usableDirectory } from './startup';
import type { CliIo } from './main';

export const EXPIRER_USAGE = `Usage: sluice object-expirer --swift-dir DIR [--interval SECONDS] [--once]
                            [--concurrency N] [--processes N --process I]

Removes objects whose X-Delete-At has passed, working through the .expiring_objects queue
with the rings and swift.conf in DIR.

  --swift-dir     directory holding swift.conf and the account, container and object rings
  --interval      seconds between passes (default 300, Swift's)
  --once          run one pass and exit (status 1 if it met errors)
  --concurrency   tasks worked on at once (default 1)
  --processes, --process
                  split the queue between N expirers; this one is number I (0-based)`;

function number(name: string, raw: string | undefined, integer: boolean, min: number): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  const ok = integer ? /^\d+$/.test(raw) : /^\d+(\.\d+)?$/.test(raw);
  if (!ok || n < min) throw new UsageError(`--${name} must be ${integer ? 'an integer' : 'a number'} of at least ${min} (got ${JSON.stringify(raw)})`, EXPIRER_USAGE);
  return n;
}

export async function runExpirer(args: string[], io: CliIo): Promise<number | undefined> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      'swift-dir': { type: 'string' },
      interval: { type: 'string' },
      once: { type: 'boolean' },
      concurrency: { type: 'string' },
      processes: { type: 'string' },
      process: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.out(EXPIRER_USAGE);
    return 0;
  }
  if (positionals.length) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`, EXPIRER_USAGE);
  if (values['swift-dir'] === undefined) throw new UsageError('--swift-dir is required', EXPIRER_USAGE);
  const swiftDir = resolve(values['swift-dir']);
  usableDirectory('--swift-dir', swiftDir, constants.R_OK | constants.X_OK);
  const interval = number('interval', values.interval, false, 0);
  if (interval === 0 && !values.once) throw new UsageError('--interval must be more than 0 (or use --once)', EXPIRER_USAGE);
  const processes = number('processes', values.processes, true, 0) ?? 0;
  const processIndex = number('process', values.process, true, 0) ?? 0;
  if (processes > 0 && processIndex >= processes) throw new UsageError('--process must be less than --processes', EXPIRER_USAGE);
  if (processes === 0 && values.process !== undefined) throw new UsageError('--process needs --processes', EXPIRER_USAGE);

  const swiftConf = loadSwiftConf(swiftDir);
  let expirer: ObjectExpirer;
  try {
    expirer = new ObjectExpirer({
      swiftDir,
      swiftConf,
      interval: values.once ? 0 : (interval ?? 300),
      concurrency: number('concurrency', values.concurrency, true, 1),
      processes,
      process: processIndex,
    });
  } catch (err) {
    // The rings are read here: name the missing one as the proxy does.
    const { code, path } = err as NodeJS.ErrnoException;
    if (code === 'ENOENT' && path) throw new Error(`ring file ${path} not found`, { cause: err });
    throw err;
  }
  if (values.once) {
    const stats = await expirer.runOnce();
    await expirer.close();
    io.out(`object-expirer: ${stats.expired} objects expired, ${stats.retried} to retry, ${stats.errors} errors`);
    return stats.errors > 0 ? 1 : 0;
  }
  expirer.start();
  io.out(`object-expirer running every ${expirer.interval}s on ${swiftDir}`);
  await new Promise<void>((done) => {
    const stop = (signal: NodeJS.Signals) => {
      io.err(`object-expirer: ${signal}, shutting down`);
      done();
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  await expirer.close();
  return 0;
}
