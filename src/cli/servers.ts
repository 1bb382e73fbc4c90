/**
 * `sluice account-server|container-server|object-server`: run one storage server in the
 * foreground until SIGTERM or SIGINT.
 */
import { constants } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { StorageServerOptions } from '../../servers/options';
import type { ContainerServerOptions } from '../../servers/container/server';
import type { ObjectServerOptions } from '../../servers/object/server';
import type { RunningServer } from '../../servers/common/http';
import { loadSwiftConf } from '../common/swift-conf';
import { UsageError } from './errors';
import { namingServer, parseWorkers, usableDirectory } from './startup';
import { leavePrimary, reportToPrimary, runServerWorkers, serverWorkerIndex } from './server-workers';

export type ServerKind = 'account' | 'container' | 'object';

/** Swift's default bind ports. */
const DEFAULT_PORTS: Record<ServerKind, number> = { account: 6202, container: 6201, object: 6200 };

export function serverUsage(kind: ServerKind): string {
  return `Usage: sluice ${kind}-server [--bind IP] [--port N] [--devices DIR] [--swift-dir DIR]
                 [--node-timeout SECONDS] [--conn-timeout SECONDS] [--workers N|auto]${KIND_USAGE[kind]}

  --bind          address to listen on (default 127.0.0.1)
  --port          port (default ${DEFAULT_PORTS[kind]}, Swift's; 0 picks a free one)
  --devices       directory with one sub-directory per device (default /srv/node)
  --swift-dir     directory holding swift.conf (hash path prefix/suffix, policies); without it a
                  development hash suffix and the single policy Policy-0 are used
  --node-timeout, --conn-timeout
                  seconds to wait on peers for container/account updates
  --workers       processes serving the port (Swift's workers; auto: one per core). Default 0:
                  this process serves${KIND_HELP[kind]}`;
}

/** The usage line's options that only one kind of server takes. */
const KIND_USAGE: Record<ServerKind, string> = {
  account: '',
  container: ' [--listing-cache-mb MB]',
  object: ' [--verified-read-seconds N]',
};

const KIND_HELP: Record<ServerKind, string> = {
  account: '',
  container: `
  --listing-cache-mb
                  MiB of rendered listings kept for containers that have not changed since
                  (default 32; 0 keeps none)`,
  object: `
  --verified-read-seconds
                  seconds during which an unchanged .data file whose whole read matched its
                  ETag is not hashed again (default 60; 0 hashes every whole read, as Swift)`,
};

/** Loads a server module only when asked for, so one kind runs even if another fails to load. */
async function starter(kind: ServerKind): Promise<(opts: StorageServerOptions) => Promise<RunningServer>> {
  switch (kind) {
    case 'account':
      return (await import('../../servers/account/server')).startAccountServer;
    case 'container':
      return (await import('../../servers/container/server')).startContainerServer;
    case 'object':
      return (await import('../../servers/object/server')).startObjectServer;
  }
}

function seconds(name: string, value: string | undefined, usage: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !(n > 0)) throw new UsageError(`--${name} must be a positive number of seconds`, usage);
  return n;
}

export interface ServerCliIo {
  out(line: string): void;
  err(line: string): void;
}

export async function runServer(kind: ServerKind, args: string[], io: ServerCliIo): Promise<number | undefined> {
  const usage = serverUsage(kind);
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      bind: { type: 'string' },
      port: { type: 'string' },
      devices: { type: 'string' },
      'swift-dir': { type: 'string' },
      'node-timeout': { type: 'string' },
      'conn-timeout': { type: 'string' },
      workers: { type: 'string' },
      ...(kind === 'container' ? { 'listing-cache-mb': { type: 'string' as const } } : {}),
      ...(kind === 'object' ? { 'verified-read-seconds': { type: 'string' as const } } : {}),
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.out(usage);
    return 0;
  }
  if (positionals.length) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`, usage);
  const port = values.port === undefined ? DEFAULT_PORTS[kind] : Number(values.port);
  if (values.port !== undefined && (!/^\d+$/.test(values.port) || port > 65535)) throw new UsageError(`--port must be 0-65535 (got ${JSON.stringify(values.port)})`, usage);
  const cacheMb = (values as Record<string, unknown>)['listing-cache-mb'] as string | undefined;
  if (cacheMb !== undefined && !/^\d+$/.test(cacheMb)) throw new UsageError(`--listing-cache-mb must be a whole number of MiB (got ${JSON.stringify(cacheMb)})`, usage);
  const verifiedRead = (values as Record<string, unknown>)['verified-read-seconds'] as string | undefined;
  if (verifiedRead !== undefined && !/^\d+$/.test(verifiedRead)) throw new UsageError(`--verified-read-seconds must be a whole number of seconds (got ${JSON.stringify(verifiedRead)})`, usage);
  const workers = parseWorkers(values.workers ?? '0', usage);
  const devices = resolve(values.devices ?? '/srv/node');
  // The server writes under every device; one it cannot use is a start-up error, not a 507 later.
  usableDirectory('--devices', devices, constants.R_OK | constants.W_OK | constants.X_OK);
  const swiftDir = values['swift-dir'] === undefined ? undefined : resolve(values['swift-dir']);
  if (swiftDir !== undefined) usableDirectory('--swift-dir', swiftDir, constants.R_OK | constants.X_OK);
  // Read swift.conf up front so a broken one stops the server with a clear message.
  const swiftConf = loadSwiftConf(swiftDir);
  const workerIndex = serverWorkerIndex();
  // Checked above, before any worker is forked (as Swift's parent loads its config first).
  if (workers > 0 && workerIndex === undefined) return runServerWorkers(`${kind}-server`, workers, io);
  if (swiftDir === undefined && workerIndex === undefined) io.err(`${kind}-server: no --swift-dir; using a development hash path suffix (rings from a real cluster will not match)`);
  const opts: ContainerServerOptions & ObjectServerOptions = {
    devices,
    host: values.bind ?? '127.0.0.1',
    port,
    swiftDir,
    swiftConf,
    nodeTimeout: seconds('node-timeout', values['node-timeout'], usage),
    connTimeout: seconds('conn-timeout', values['conn-timeout'], usage),
    listingCacheBytes: cacheMb === undefined ? undefined : Number(cacheMb) * 1024 * 1024,
    verifiedReadSeconds: verifiedRead === undefined ? undefined : Number(verifiedRead),
    backgroundSweeps: !workerIndex,
  };
  const start = await starter(kind);
  let server: RunningServer;
  try {
    server = await start(opts);
  } catch (err) {
    const named = namingServer(`${kind}-server`, err);
    if (workerIndex === undefined) throw named;
    // The primary says it, once, and stops the other workers.
    reportToPrimary({ error: named });
    leavePrimary();
    return 1;
  }
  if (workerIndex === undefined) io.out(`${kind}-server listening on ${server.url}`);
  else reportToPrimary({ url: server.url });

  await new Promise<void>((resolveStop) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        // A second signal while draining: give up waiting.
        io.err(`${kind}-server: ${signal} again, exiting now`);
        process.exit(1);
      }
      stopping = true;
      io.err(`${kind}-server: ${signal}, shutting down`);
      server.close().then(
        () => resolveStop(),
        (err: unknown) => {
          io.err(`${kind}-server: error while closing: ${(err as Error)?.message ?? String(err)}`);
          resolveStop();
        },
      );
    };
    process.on('SIGTERM', stop);
    // A worker stops when its primary says so: Ctrl-C reaches the whole process group, and the
    // primary's SIGTERM would otherwise be a second signal that cuts the drain short.
    if (workerIndex === undefined) process.on('SIGINT', stop);
    else process.on('SIGINT', () => undefined);
  });
  leavePrimary();
  return 0;
}
