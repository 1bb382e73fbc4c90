/**
 * Fan-out of one client request to the replicas of a partition, as Swift's make_requests and
 * GETorHEAD_base do it:
 *
 * - writes: one request per replica slot, all at once; a slot whose node fails (connection
 *   error, timeout, 5xx) moves on to the next node of a shared iterator (primaries first, then
 *   handoffs). Once a quorum of answers agrees, stragglers get `postQuorumTimeout` more.
 * - reads: one node at a time until one answers with a usable response.
 */
import type { Ring, RingDevice as RingNode } from '../common/ring';
import { BackendClient, BackendError, bestResponse, quorumSize, type BackendRequest, type BackendResponse } from '../common/backend-client';

/** Primaries, then up to `requestNodeCount - primaries` handoffs (Swift: request_node_count = 2 * replicas). */
export function* iterNodes(ring: Ring, part: number, requestNodeCount?: number): Generator<RingNode> {
  const primaries = ring.getPartNodes(part);
  const limit = requestNodeCount ?? 2 * ring.replicaCount;
  let n = 0;
  for (const node of primaries) {
    if (n++ >= limit) return;
    yield node;
  }
  for (const node of ring.getMoreNodes(part)) {
    if (n++ >= limit) return;
    yield node;
  }
}

function usable(status: number): boolean {
  return status >= 200 && status < 500; // neither informational nor a server error
}

export interface FanOutResult {
  responses: (BackendResponse | BackendError)[];
  /** The chosen response, or undefined when there is no quorum (the caller answers 503). */
  best: BackendResponse | undefined;
}

/**
 * Sends `headers.length` requests (one per replica) for the same path, trying further nodes
 * for a slot whose node fails.
 */
export async function makeRequests(
  client: BackendClient,
  ring: Ring,
  part: number,
  base: Omit<BackendRequest, 'headers' | 'partition'>,
  headersPerReplica: Record<string, string>[],
  opts: { postQuorumTimeout: number; nodes?: Iterator<RingNode> } = { postQuorumTimeout: 0.5 },
): Promise<FanOutResult> {
  const nodes = opts.nodes ?? iterNodes(ring, part);
  const nodeCount = headersPerReplica.length;
  const quorum = quorumSize(nodeCount);
  const responses: (BackendResponse | BackendError)[] = [];

  // Resolves once every slot is done, or `postQuorumTimeout` after a quorum first agrees.
  let quorumTimer: NodeJS.Timeout | undefined;
  let release!: () => void;
  const done = new Promise<void>((resolve) => (release = resolve));
  const record = (r: BackendResponse | BackendError) => {
    responses.push(r);
    if (quorumTimer === undefined && bestResponse(responses, quorum) !== undefined) {
      quorumTimer = setTimeout(release, opts.postQuorumTimeout * 1000);
    }
  };

  const slot = async (headers: Record<string, string>): Promise<void> => {
    let last: BackendResponse | BackendError | undefined;
    for (let next = nodes.next(); !next.done; next = nodes.next()) {
      try {
        const res = await client.send(next.value, { ...base, partition: part, headers });
        if (usable(res.status)) return record(res);
        last = res;
      } catch (err) {
        if (!(err instanceof BackendError)) throw err;
        last = err;
      }
    }
    if (last) record(last);
  };

  const all = Promise.all(headersPerReplica.map((h) => slot(h)));
  await Promise.race([all, done]);
  clearTimeout(quorumTimer);
  return { responses: [...responses], best: bestResponse(responses, quorum) };
}

/**
 * GET/HEAD against one node at a time (primaries then handoffs) until one answers with a
 * 2xx/3xx or a definitive 4xx other than 404; 404s and failures move on. With nothing usable,
 * Swift's best_response over everything seen decides (404 if a quorum said so, else 503).
 */
export async function readFromNodes(
  client: BackendClient,
  ring: Ring,
  part: number,
  req: Omit<BackendRequest, 'partition'>,
): Promise<BackendResponse | undefined> {
  const seen: (BackendResponse | BackendError)[] = [];
  for (const node of iterNodes(ring, part)) {
    try {
      const res = await client.send(node, { ...req, partition: part });
      if (res.status >= 200 && res.status < 400) return res;
      if (res.status >= 400 && res.status < 500 && res.status !== 404) return res;
      seen.push(res);
    } catch (err) {
      if (!(err instanceof BackendError)) throw err;
      seen.push(err);
    }
  }
  return bestResponse(seen, quorumSize(ring.replicaCount));
}
