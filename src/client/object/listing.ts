/**
 * Account and container listings as async iterators that page for the caller: each page is a
 * `format=json` GET with `limit` items at most, the next one starting after the last name seen
 * (swiftclient's full_listing loop), until a page comes back empty or short.
 */
import type { ClientResponse } from '../types';

export interface ListOptions {
  prefix?: string;
  /** Start after this name. */
  marker?: string;
  /** Stop before this name. */
  endMarker?: string;
  /** Items per request (Swift's `limit`; the server caps it at its container_listing_limit). */
  limit?: number;
  reverse?: boolean;
  signal?: AbortSignal;
}

export interface ObjectListOptions extends ListOptions {
  /** Roll names up to the first delimiter after the prefix into `subdir` entries. */
  delimiter?: string;
}

export interface ContainerEntry {
  kind: 'container';
  name: string;
  count: number;
  bytes: number;
  lastModified?: string;
}

export interface ObjectEntry {
  kind: 'object';
  name: string;
  bytes: number;
  hash: string;
  contentType: string;
  lastModified: string;
}

export interface SubdirEntry {
  kind: 'subdir';
  subdir: string;
}

type Raw = Record<string, unknown>;

/** Fetches one page; `marker` is the name to start after. */
export type PageFetch = (query: Record<string, string | number | boolean | undefined>, signal?: AbortSignal) => Promise<ClientResponse>;

async function* pages(fetchPage: PageFetch, opts: ObjectListOptions): AsyncGenerator<Raw[]> {
  if (opts.limit !== undefined && (!Number.isInteger(opts.limit) || opts.limit < 1)) throw new RangeError('limit must be a positive integer');
  let marker = opts.marker;
  for (;;) {
    const res = await fetchPage(
      {
        format: 'json',
        prefix: opts.prefix,
        delimiter: opts.delimiter,
        marker,
        end_marker: opts.endMarker,
        limit: opts.limit,
        reverse: opts.reverse ? 'true' : undefined,
      },
      opts.signal,
    );
    // 204 (an empty account) has no body to parse.
    const page = res.status === 204 ? (await res.text(), []) : await res.json<Raw[]>();
    if (!Array.isArray(page) || page.length === 0) return;
    yield page;
    if (opts.limit !== undefined && page.length < opts.limit) return;
    const last = page[page.length - 1]!;
    marker = String(last.name ?? last.subdir);
  }
}

export async function* containerEntries(fetchPage: PageFetch, opts: ListOptions): AsyncGenerator<ContainerEntry> {
  for await (const page of pages(fetchPage, opts)) {
    for (const r of page) {
      yield { kind: 'container', name: String(r.name), count: Number(r.count ?? 0), bytes: Number(r.bytes ?? 0), lastModified: r.last_modified as string | undefined };
    }
  }
}

export async function* objectEntries(fetchPage: PageFetch, opts: ObjectListOptions): AsyncGenerator<ObjectEntry | SubdirEntry> {
  for await (const page of pages(fetchPage, opts)) {
    for (const r of page) {
      if (typeof r.subdir === 'string') yield { kind: 'subdir', subdir: r.subdir };
      else {
        yield {
          kind: 'object',
          name: String(r.name),
          bytes: Number(r.bytes ?? 0),
          hash: String(r.hash ?? ''),
          contentType: String(r.content_type ?? ''),
          lastModified: String(r.last_modified ?? ''),
        };
      }
    }
  }
}
