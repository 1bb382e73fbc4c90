/**
 * Swift's `recon` filter (swift/common/middleware/recon.py, `egg:swift#recon`) in front of
 * sluice's account, container and object servers: `/recon/<check>[/<type>]` answers the JSON
 * swift-recon reads; every other request goes on to the server.
 *
 * Host and device figures are computed as Swift's are (recon-host.ts, recon-devices.ts).
 * Daemon figures come from the recon cache files in `recon_cache_path` (object.recon,
 * container.recon, account.recon, drive.recon, relinker.recon) exactly as Swift's middleware
 * reads them, so Swift's own replicators, auditors, expirer or swift-drive-audit running on the
 * node show up; sluice runs none of those, so without them each key is null, as Swift answers
 * when its daemon has not run. One difference: `async` counts the async pendings on the
 * devices when asked (what swift-recon-cron would have written), since sluice has no cron job
 * to keep object.recon's count fresh.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadSwiftConf, type SwiftConf } from '../../src/common/swift-conf';
import { ringFileName } from '../../src/common/ring';
import { splitPath } from '../../src/common/path';
import { isHealthcheckPath } from '../../src/common/healthcheck-path';
import { pyJsonDumps, pyJsonLoads, type PyValue } from '../../src/compat/json';
import { quoteBytes, unquoteBytes } from '../../src/compat/quote';
import type { StorageServerOptions } from '../options';
import { send, splitTarget, type Handler } from './http';
import { asyncPendingCount, diskUsage, listdir, quarantineCounts, unmounted } from './recon-devices';
import { load, mem, mounted, now, sockstat } from './recon-host';

/** swift.common.recon.DEFAULT_RECON_CACHE_PATH. */
export const DEFAULT_RECON_CACHE_PATH = '/var/cache/swift';
/**
 * Swift 2.30's recon hashes this file whatever swift_dir says (SWIFT_CONF_FILE is bound when the
 * module loads), and swift-recon compares the answer under this key with its own copy.
 */
export const SWIFT_CONF_FILE = '/etc/swift/swift.conf';
/** What /recon/version reports: the release of the server software on the node, here sluice. */
export const RECON_VERSION = 'sluice';

const CACHE_FILES = { object: 'object.recon', container: 'container.recon', account: 'account.recon', drive: 'drive.recon', relinker: 'relinker.recon' } as const;
type CacheName = keyof typeof CACHE_FILES;
const ALL_TYPES = ['account', 'container', 'object'];

export interface ReconConfig {
  devices: string;
  swiftDir: string;
  cachePath: string;
  conf: SwiftConf;
}

/** The recon settings of a storage server: its devices and swift_dir, recon_cache_path. */
export function reconConfig(opts: StorageServerOptions): ReconConfig {
  return {
    devices: opts.devices,
    swiftDir: opts.swiftDir ?? '/etc/swift',
    cachePath: opts.reconCachePath ?? DEFAULT_RECON_CACHE_PATH,
    conf: opts.swiftConf ?? loadSwiftConf(opts.swiftDir),
  };
}

/**
 * Wraps a storage server's handler with the healthcheck and recon filters, as Swift's sample
 * `pipeline = healthcheck recon <server>` does: `/healthcheck` answers 200 "OK" to any method
 * (a load balancer's probe), `/recon/...` as the recon filter.
 */
export function withRecon(opts: StorageServerOptions, app: Handler): Handler {
  const recon = new Recon(reconConfig(opts));
  return (req, res) => {
    const raw = splitTarget(req).rawPath;
    // '/healthcheck' is at most 36 bytes percent-encoded.
    if (raw.length <= 36 && isHealthcheckPath(raw)) {
      req.resume();
      send(req, res, 200, { body: 'OK', contentType: 'text/plain' });
      return;
    }
    // Most requests are for the server: '/recon/' is at most 21 bytes percent-encoded.
    if (!raw.startsWith('/recon/') && !raw.slice(0, 21).includes('%')) return app(req, res);
    // swob's req.path: the percent-decoded PATH_INFO, quoted again.
    const path = quoteBytes(unquoteBytes(raw));
    if (!path.startsWith('/recon/')) return app(req, res);
    req.resume();
    recon.answer(req, res, path);
  };
}

export class Recon {
  private readonly rings: string[];

  constructor(readonly cfg: ReconConfig) {
    this.rings = [
      join(cfg.swiftDir, ringFileName('account')),
      join(cfg.swiftDir, ringFileName('container')),
      ...cfg.conf.policies.map((p) => join(cfg.swiftDir, ringFileName('object', p.index))),
    ];
  }

  answer(req: IncomingMessage, res: ServerResponse, path: string): void {
    const content = this.content(path);
    if (content === undefined) {
      send(req, res, 404, { body: `Invalid path: ${path}`, contentType: 'text/plain' });
      return;
    }
    send(req, res, 200, { body: pyJsonDumps(content), contentType: 'application/json' });
  }

  /** ReconMiddleware.GET's dispatch; undefined where Swift answers 404 Invalid path. */
  content(path: string): unknown {
    const [, check, type] = splitPath(path, 1, 3, true);
    const d = this.cfg.devices;
    switch (check) {
      case 'mem':
        return mem();
      case 'load':
        return load();
      case 'async':
        return { async_pending: asyncPendingCount(d), async_pending_last: now() };
      case 'replication':
        // Without a type, the old-style object replication request.
        if (type === undefined) return this.replication('object');
        return ALL_TYPES.includes(type) ? this.replication(type as 'account' | 'container' | 'object') : undefined;
      case 'devices':
        return { [d]: this.listDevices() };
      case 'updater':
        if (type === 'container' || type === 'object') return this.cache(type, [`${type}_updater_sweep`]);
        return undefined;
      case 'auditor':
        if (type === 'object') return this.cache('object', ['object_auditor_stats_ALL', 'object_auditor_stats_ZBF']);
        if (type === 'account' || type === 'container') {
          return this.cache(type, [`${type}_audits_passed`, `${type}_auditor_pass_completed`, `${type}_audits_since`, `${type}_audits_failed`]);
        }
        return undefined;
      case 'expirer':
        return type === 'object' ? this.cache('object', ['object_expiration_pass', 'expired_last_pass']) : undefined;
      case 'mounted':
        return mounted();
      case 'unmounted':
        return unmounted(d);
      case 'diskusage':
        return diskUsage(d);
      case 'ringmd5':
        return this.ringMd5();
      case 'swiftconfmd5':
        return { [SWIFT_CONF_FILE]: md5OfFile(SWIFT_CONF_FILE) };
      case 'quarantined':
        return quarantineCounts(d);
      case 'sockstat':
        return sockstat();
      case 'version':
        return { version: RECON_VERSION };
      case 'driveaudit':
        return this.cache('drive', ['drive_audit_errors']);
      case 'time':
        return now();
      case 'sharding':
        return this.cache('container', ['sharding_stats', 'sharding_time', 'sharding_last']);
      case 'relinker':
        return this.cache('relinker', ['devices', 'workers']);
      case 'reconstruction':
        return type === 'object' ? this.cache('object', ['object_reconstruction_last', 'object_reconstruction_time']) : undefined;
      default:
        return undefined;
    }
  }

  private replication(type: 'account' | 'container' | 'object'): Map<string, PyValue> {
    const keys = ['replication_time', 'replication_stats', 'replication_last'];
    if (type === 'object') keys.push('object_replication_time', 'object_replication_last');
    return this.cache(type, keys);
  }

  private listDevices(): string[] | null {
    try {
      return listdir(this.cfg.devices);
    } catch (err) {
      process.stderr.write(`recon: error listing devices ${this.cfg.devices}: ${(err as Error).message}\n`);
      return null;
    }
  }

  /**
   * _from_recon_cache: the keys asked for, each null when the file or the key is missing or the
   * file is unreadable. A missing file is the normal state of a sluice node (no daemons write
   * it), so only other failures are logged.
   */
  private cache(name: CacheName, keys: string[]): Map<string, PyValue> {
    const file = join(this.cfg.cachePath, CACHE_FILES[name]);
    let data: PyValue = null;
    try {
      data = pyJsonLoads(readFileSync(file, 'utf8'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') process.stderr.write(`recon: error reading recon cache file ${file}: ${(err as Error).message}\n`);
    }
    const found = data instanceof Map ? data : undefined;
    return new Map(keys.map((k) => [k, found?.get(k) ?? null]));
  }

  /** get_ring_md5: the md5 of each ring file of this swift_dir that exists. */
  private ringMd5(): Record<string, string | null> {
    const sums: Record<string, string | null> = {};
    for (const ring of this.rings) if (existsSync(ring)) sums[ring] = md5OfFile(ring);
    return sums;
  }
}

/** md5_hash_for_file, or null when the file cannot be read (Swift's null for a missing one). */
function md5OfFile(path: string): string | null {
  try {
    return createHash('md5').update(readFileSync(path)).digest('hex');
  } catch {
    return null;
  }
}
