import type { SwiftConf } from '../src/common/swift-conf';

/** Options every storage server takes, from the CLI (`--bind --port --devices --swift-dir`) or code. */
export interface StorageServerOptions {
  /** Directory holding one sub-directory per device (Swift's `devices`). */
  devices: string;
  host?: string;
  /** 0 or absent: an ephemeral port. */
  port?: number;
  /** Where swift.conf lives; without one, a development hash suffix and one policy are used. */
  swiftDir?: string;
  /** Overrides swift.conf entirely (tests). */
  swiftConf?: SwiftConf;
  /** Seconds to wait for a peer (account/container update) to connect and answer. */
  nodeTimeout?: number;
  connTimeout?: number;
  /** Where Swift's daemons keep their recon cache files, which /recon/ reads (Swift's recon_cache_path, /var/cache/swift). */
  reconCachePath?: string;
  /**
   * Whether this server runs its background sweeps (the object and container updaters' timers;
   * default true). False in all but one of a server's workers: Swift runs one updater per node
   * beside its servers' workers.
   */
  backgroundSweeps?: boolean;
}
