/**
 * The Prometheus figures (prom-client): Swift's proxy metrics as labelled series (the StatsD
 * names' variable parts, `<type>.<method>.<status>` and `policy.<index>`, become labels), plus
 * what sluice alone can say: backend requests to handoff nodes and backend failures, the shared
 * cache's lookups and hit ratio, and the backend connection pools' state. Each proxy process
 * keeps its own registry; the exposition sums the processes' figures (one, or every worker's).
 */
import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';
import type { Counter, Histogram, Registry } from 'prom-client';
import type { CacheResult, MetricsObserver, RequestFigures, ServerType } from './metrics';
import type { ProxyState } from './state';
import type { BackendError } from '../common/backend-client';
import type { WorkerFigures } from './metrics-cluster';

/** prom-client, loaded only by a proxy whose pipeline has the filter (it costs start-up time). */
const promClient = (): typeof PromClient => createRequire(import.meta.url)('prom-client') as typeof PromClient;

const REQUEST_LABELS = ['type', 'method', 'status', 'policy'] as const;
const LOOKUPS = 'sluice_cache_lookups_total';

export class PrometheusMetrics implements MetricsObserver {
  readonly registry: Registry;
  private readonly requests: Counter<(typeof REQUEST_LABELS)[number]>;
  private readonly duration: Histogram<(typeof REQUEST_LABELS)[number]>;
  private readonly firstBytes: Histogram<(typeof REQUEST_LABELS)[number]>;
  private readonly transfer: Counter<(typeof REQUEST_LABELS)[number]>;
  private readonly errors: Counter;
  private readonly timeouts: Counter<'type'>;
  private readonly disconnects: Counter<'type'>;
  private readonly backendRequests: Counter<'type' | 'node'>;
  private readonly backendErrors: Counter<'type' | 'kind'>;
  private readonly lookups: Counter<'kind' | 'result'>;

  constructor(state: ProxyState, buckets?: number[]) {
    const { Counter, Gauge, Histogram, Registry } = promClient();
    this.registry = new Registry();
    const registers = [this.registry];
    this.requests = new Counter({ name: 'sluice_proxy_requests_total', help: 'Client requests under /v1/ by stat type, method, status and object storage policy (Swift proxy-logging\'s <type>.<method>.<status> metrics).', labelNames: REQUEST_LABELS, registers });
    this.duration = new Histogram({ name: 'sluice_proxy_request_duration_seconds', help: 'Time from request to the last byte of the response (Swift\'s <type>.<method>.<status>.timing).', labelNames: REQUEST_LABELS, registers, ...(buckets ? { buckets } : {}) });
    this.firstBytes = new Histogram({ name: 'sluice_proxy_first_byte_seconds', help: 'Time to the response headers of GETs (Swift\'s <type>.GET.<status>.first-byte.timing).', labelNames: REQUEST_LABELS, registers, ...(buckets ? { buckets } : {}) });
    this.transfer = new Counter({ name: 'sluice_proxy_transfer_bytes_total', help: 'Request body bytes received plus response body bytes sent (Swift\'s <type>.<method>.<status>.xfer).', labelNames: REQUEST_LABELS, registers });
    this.errors = new Counter({ name: 'sluice_proxy_errors_total', help: 'Requests the proxy refused before any controller: bad Content-Length, path, API version or UTF-8 (Swift\'s proxy-server.errors).', registers });
    this.timeouts = new Counter({ name: 'sluice_proxy_client_timeouts_total', help: 'Uploads answered 408 because the client stopped sending (Swift\'s <type>.client_timeouts).', labelNames: ['type'], registers });
    this.disconnects = new Counter({ name: 'sluice_proxy_client_disconnects_total', help: 'Uploads answered 499 because the client went away (Swift\'s <type>.client_disconnects).', labelNames: ['type'], registers });
    this.backendRequests = new Counter({ name: 'sluice_backend_requests_total', help: 'Requests to storage servers, to a primary or a handoff node.', labelNames: ['type', 'node'], registers });
    this.backendErrors = new Counter({ name: 'sluice_backend_errors_total', help: 'Storage server requests that failed: connect (refused, unreachable, connect timeout), timeout (node_timeout) or io.', labelNames: ['type', 'kind'], registers });
    this.lookups = new Counter({ name: LOOKUPS, help: 'Shared cache lookups (account and container info, tokens) by kind of key and result.', labelNames: ['kind', 'result'], registers });
    new Gauge({
      name: 'sluice_backend_pool_connections',
      help: 'Backend connection pools (undici) by storage server: connected, free, pending, queued, running and size.',
      labelNames: ['origin', 'state'],
      registers,
      collect() {
        this.reset();
        for (const [origin, stats] of state.backend.poolStats()) {
          for (const key of ['connected', 'free', 'pending', 'queued', 'running', 'size'] as const) this.set({ origin, state: key }, stats[key]);
        }
      },
    });
  }

  request(f: RequestFigures): void {
    const labels = { type: f.type, method: f.method, status: String(f.status), policy: f.policy ?? '' };
    this.requests.inc(labels);
    this.duration.observe(labels, f.seconds);
    this.transfer.inc(labels, f.bytes);
  }

  firstByte(f: Omit<RequestFigures, 'bytes'>): void {
    this.firstBytes.observe({ type: f.type, method: f.method, status: String(f.status), policy: f.policy ?? '' }, f.seconds);
  }

  proxyError(): void {
    this.errors.inc();
  }

  clientTimeout(type: ServerType): void {
    this.timeouts.inc({ type });
  }

  clientDisconnect(type: ServerType): void {
    this.disconnects.inc({ type });
  }

  backendRequest(type: ServerType, handoff: boolean): void {
    this.backendRequests.inc({ type, node: handoff ? 'handoff' : 'primary' });
  }

  backendError(type: ServerType, kind: BackendError['kind']): void {
    this.backendErrors.inc({ type, kind });
  }

  cacheLookup(kind: string, result: CacheResult): void {
    this.lookups.inc({ kind, result });
  }

  figures(): Promise<WorkerFigures> {
    return this.registry.getMetricsAsJSON();
  }
}

interface FigureValue {
  value: number;
  labels: Record<string, string | number | undefined>;
}

/**
 * The exposition text of one or more processes' figures: counters and histograms summed (pool
 * gauges too: each process has its own pools), and the cache hit ratio computed from the sums,
 * hits / (hits + misses), 0 before any lookup.
 */
export async function exposition(processes: WorkerFigures[]): Promise<{ text: string; contentType: string }> {
  const { AggregatorRegistry, Gauge } = promClient();
  const registry = AggregatorRegistry.aggregate(processes);
  const lookups = (registry.getSingleMetric(LOOKUPS) as unknown as { get(): { values: FigureValue[] } } | undefined)?.get().values ?? [];
  const count = (result: string) => lookups.filter((v) => v.labels.result === result).reduce((n, v) => n + v.value, 0);
  const hits = count('hit');
  const lookedUp = hits + count('miss');
  const ratio = new Gauge({ name: 'sluice_cache_hit_ratio', help: 'Shared cache hits / (hits + misses) since the proxy processes started.', registers: [registry] });
  ratio.set(lookedUp === 0 ? 0 : hits / lookedUp);
  new Gauge({ name: 'sluice_proxy_processes', help: 'Proxy processes (workers) whose figures this scrape sums.', registers: [registry] }).set(processes.length);
  return { text: await registry.metrics(), contentType: registry.contentType };
}
