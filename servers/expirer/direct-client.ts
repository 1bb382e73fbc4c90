/**
 * The object expirer's requests straight to storage servers (Swift's direct_client, with no
 * proxy in between): listings read from the first replica that has them, writes sent to every
 * replica at once. Every request is bounded by the backend client's connect and node timeouts,
 * and node failures come back as values, never as exceptions.
 */
import type { Ring, RingNode } from '../../src/common/ring';
import { BackendClient, BackendError, type BackendResponse } from '../../src/common/backend-client';
import { quote } from '../../src/compat/quote';

export type NodeAnswer = BackendResponse | BackendError;

export const isSuccess = (a: NodeAnswer): boolean => !(a instanceof BackendError) && a.status >= 200 && a.status < 300;
export const statusOf = (a: NodeAnswer): number | undefined => (a instanceof BackendError ? undefined : a.status);

/** Why a listing could not be read: what each replica said. */
export class ListingUnavailable extends Error {}

/** Account listing rows (format=json). */
export interface AccountListingEntry {
  name: string;
  count: number;
  bytes: number;
}

/** Container listing rows (format=json). */
export interface ContainerListingEntry {
  name: string;
  content_type: string;
}

export class DirectClient {
  constructor(
    private readonly backend: BackendClient,
    private readonly userAgent: string,
  ) {}

  headers(extra: Record<string, string>): Record<string, string> {
    return { 'user-agent': this.userAgent, ...extra };
  }

  /** One request to one node; connection errors and timeouts are returned, not thrown. */
  async send(node: RingNode, partition: number, method: string, path: string, headers: Record<string, string>, query?: string): Promise<NodeAnswer> {
    try {
      return await this.backend.send(node, { method, partition, path, headers: this.headers(headers), query });
    } catch (err) {
      if (err instanceof BackendError) return err;
      throw err;
    }
  }

  /** The same request to each node (headers per node), all at once. */
  toEach(nodes: readonly RingNode[], partition: number, method: string, path: string, headers: Record<string, string>[]): Promise<NodeAnswer[]> {
    return Promise.all(nodes.map((node, i) => this.send(node, partition, method, path, headers[i] ?? headers[0] ?? {})));
  }

  /**
   * One page of a JSON listing from the first replica that answers 2xx. Undefined when the
   * replicas that answered all said 404 (the account or container does not exist); throws
   * ListingUnavailable when none gave a usable answer.
   */
  async listPage<T>(ring: Ring, account: string, container: string | undefined, marker: string, limit?: number): Promise<T[] | undefined> {
    const { part, nodes } = ring.getNodes(account, container);
    const path = container === undefined ? `/${account}` : `/${account}/${container}`;
    const query = `format=json&marker=${quote(marker)}${limit ? `&limit=${limit}` : ''}`;
    const failures: string[] = [];
    let notFound = 0;
    for (const node of nodes) {
      const answer = await this.send(node, part, 'GET', path, {}, query);
      if (!(answer instanceof BackendError) && isSuccess(answer)) {
        if (answer.status === 204 || answer.body.length === 0) return [];
        try {
          const rows = JSON.parse(answer.body.toString('utf8')) as unknown;
          if (Array.isArray(rows)) return rows as T[];
        } catch {
          // fall through: an unreadable answer counts as a failed replica
        }
        failures.push(`${node.ip}:${node.port}/${node.device}: unreadable listing`);
      } else if (statusOf(answer) === 404) notFound++;
      else failures.push(`${node.ip}:${node.port}/${node.device}: ${answer instanceof BackendError ? answer.message : answer.status}`);
    }
    if (notFound > 0) return undefined;
    throw new ListingUnavailable(`no replica could list ${path} (${failures.join('; ') || 'no nodes'})`);
  }

  /** Every row of a JSON listing, page by page (each page from the first replica that has it). */
  async *list<T extends { name: string }>(ring: Ring, account: string, container?: string): AsyncGenerator<T> {
    let marker = '';
    for (;;) {
      const page = await this.listPage<T>(ring, account, container, marker);
      if (!page || page.length === 0) return;
      for (const row of page) yield row;
      marker = page[page.length - 1]!.name;
    }
  }
}
