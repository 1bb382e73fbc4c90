/** What the slo filter's parts share: its options, the app below it, Swift's names. */
import type { Logger } from 'pino';
import { intOption, type Section } from '../../proxy/config';
import type { Subrequest } from '../../proxy/subrequest';

export const SYSMETA_SLO_ETAG = 'x-object-sysmeta-slo-etag';
export const SYSMETA_SLO_SIZE = 'x-object-sysmeta-slo-size';

export interface SloOptions {
  maxManifestSegments: number;
  maxManifestSize: number;
  /** Seconds between heartbeat spaces of a `?heartbeat=on` manifest PUT. */
  yieldFrequency: number;
  maxGetTime: number;
  rateLimitUnderSize: number;
  rateLimitAfterSegment: number;
  rateLimitSegmentsPerSec: number;
  /** Segment HEADs of a manifest PUT at a time. */
  concurrency: number;
  deleteConcurrency: number;
}

/** filter_factory and StaticLargeObject.__init__, with Swift's defaults. */
export function sloOptions(conf: Section): SloOptions {
  const concurrency = Math.min(1000, Math.max(0, intOption(conf, 'concurrency', 2)));
  return {
    maxManifestSegments: intOption(conf, 'max_manifest_segments', 1000),
    maxManifestSize: intOption(conf, 'max_manifest_size', 8 * 1024 * 1024),
    yieldFrequency: intOption(conf, 'yield_frequency', 10),
    maxGetTime: intOption(conf, 'max_get_time', 86400),
    rateLimitUnderSize: intOption(conf, 'rate_limit_under_size', 1024 * 1024),
    rateLimitAfterSegment: intOption(conf, 'rate_limit_after_segment', 10),
    rateLimitSegmentsPerSec: intOption(conf, 'rate_limit_segments_per_sec', 1),
    concurrency,
    deleteConcurrency: intOption(conf, 'delete_concurrency', concurrency),
  };
}

export interface SloContext {
  app: Subrequest;
  options: SloOptions;
  logger: Logger;
}
