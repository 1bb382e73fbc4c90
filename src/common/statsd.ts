/**
 * StatsD lines as Swift's StatsdClient (swift.common.utils) sends them, over hot-shots' UDP
 * transport: `<prefix><name>:<value>|<type>` with `|@<rate>` when sampled, the prefix being
 * `<log_statsd_metric_prefix>.<tail>.` (each part only when set), and the rate of each metric
 * `(its own rate, or log_statsd_default_sample_rate) * log_statsd_sample_rate_factor`.
 * Swift sends a line only when random() < rate for rates below 1 and marks it `@rate`; hot-shots
 * does the same with a rate it is handed, except for a rate of 0, which it treats as "unset": a
 * rate of 0 or less is dropped here, as Swift's comparison drops it.
 */
import { createRequire } from 'node:module';
import type { ClientOptions, StatsD } from 'hot-shots';

/** hot-shots, loaded only when StatsD is configured. */
const statsdClient = (options: ClientOptions): StatsD => {
  const Client = createRequire(import.meta.url)('hot-shots') as new (o: ClientOptions) => StatsD;
  return new Client(options);
};

export interface StatsdConfig {
  host: string;
  /** log_statsd_port (Swift's default 8125). */
  port: number;
  /** log_statsd_metric_prefix ('' when unset). */
  basePrefix: string;
  /** log_statsd_default_sample_rate (1). */
  defaultSampleRate: number;
  /** log_statsd_sample_rate_factor (1). */
  sampleRateFactor: number;
}

/** StatsdClient._set_prefix: only the parts that are set, each followed by a dot. */
export function statsdPrefix(basePrefix: string, tailPrefix: string): string {
  return [basePrefix, tailPrefix]
    .filter(Boolean)
    .map((p) => `${p}.`)
    .join('');
}

/** What sends metrics: Swift's logger methods that delegate to its StatsdClient. */
export interface MetricSink {
  increment(name: string, sampleRate?: number): void;
  /** update_stats: a counter moved by `value`. */
  updateStats(name: string, value: number, sampleRate?: number): void;
  timing(name: string, ms: number, sampleRate?: number): void;
}

export class SwiftStatsdClient implements MetricSink {
  private readonly client: StatsD;
  readonly prefix: string;

  constructor(
    readonly config: StatsdConfig,
    tailPrefix: string,
    onError: (err: Error) => void,
  ) {
    this.prefix = statsdPrefix(config.basePrefix, tailPrefix);
    this.client = statsdClient({
      host: config.host,
      port: config.port,
      protocol: 'udp',
      prefix: this.prefix,
      // Plain StatsD: no Datadog tags, telemetry or buffering (Swift sends one datagram per metric).
      datadog: false,
      includeDataDogTags: false,
      maxBufferSize: 0,
      errorHandler: onError,
      ...({ includeDatadogTelemetry: false } as object),
    });
  }

  /** The rate Swift applies to a metric; 0 or below sends nothing. */
  private rate(sampleRate: number | undefined): number {
    return (sampleRate ?? this.config.defaultSampleRate) * this.config.sampleRateFactor;
  }

  updateStats(name: string, value: number, sampleRate?: number): void {
    const rate = this.rate(sampleRate);
    if (rate > 0) this.client.increment(name, value, rate);
  }

  increment(name: string, sampleRate?: number): void {
    this.updateStats(name, 1, sampleRate);
  }

  timing(name: string, ms: number, sampleRate?: number): void {
    const rate = this.rate(sampleRate);
    if (rate > 0) this.client.timing(name, ms, rate);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.client.close(() => resolve()));
  }
}
