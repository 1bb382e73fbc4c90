/**
 * Sessions for the object-client tests: a throwaway cluster (startCluster's default pipeline has
 * bulk, tempurl, tempauth, slo and dlo) and the real Session with TempAuth for Swift's
 * development users (test:tester is the owner of AUTH_test; test:tester3 a plain user of it).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { Session } from '../../src/client/session';
import { TempAuth } from '../../src/client/auth/tempauth';
import type { ClientRequestOptions, ClientResponse, SessionLike } from '../../src/client/types';
import { ObjectStore } from '../../src/client/object/index';
import { startCluster, type TestCluster } from '../../src/testing/index';

export const USERS = {
  owner: { user: 'test:tester', key: 'testing' },
  plain: { user: 'test:tester3', key: 'testing3' },
  other: { user: 'test2:tester2', key: 'testing2' },
} as const;

export function tempAuthSession(cluster: { url: string }, who: { user: string; key: string } = USERS.owner): Session {
  return new Session({ auth: new TempAuth({ authUrl: `${cluster.url}/auth/v1.0`, user: who.user, key: who.key }) });
}

export interface StoreCluster {
  cluster: TestCluster;
  session: Session;
  store: ObjectStore;
  /** A store for another user (its own Session). */
  storeAs(who: { user: string; key: string }): ObjectStore;
  stop(): Promise<void>;
}

export async function startStoreCluster(): Promise<StoreCluster> {
  const cluster = await startCluster();
  const sessions: Session[] = [];
  const make = (who: { user: string; key: string }) => {
    const s = tempAuthSession(cluster, who);
    sessions.push(s);
    return s;
  };
  const session = make(USERS.owner);
  return {
    cluster,
    session,
    store: new ObjectStore(session),
    storeAs: (who) => new ObjectStore(make(who)),
    async stop() {
      await Promise.all(sessions.map((s) => s.close()));
      await cluster.stop();
    },
  };
}

/** A SessionLike that records every request (method, URL, query) and passes it on. */
export class RecordingSession implements SessionLike {
  readonly requests: { method: string; url: string; query?: ClientRequestOptions['query'] }[] = [];

  constructor(private readonly inner: SessionLike) {}

  request(pathOrUrl: string, options: ClientRequestOptions = {}): Promise<ClientResponse> {
    this.requests.push({ method: options.method ?? 'GET', url: pathOrUrl, query: options.query });
    return this.inner.request(pathOrUrl, options);
  }

  getEndpoint(filter?: Parameters<SessionLike['getEndpoint']>[0]): Promise<string> {
    return this.inner.getEndpoint(filter);
  }

  count(method: string, match: RegExp): number {
    return this.requests.filter((r) => r.method === method && match.test(r.url)).length;
  }
}

/** What a test file shares: the cluster, the owner's store and a temp directory, set in beforeAll. */
export interface StoreFixture {
  env: StoreCluster;
  store: ObjectStore;
  tmp: string;
}

/** Starts a store cluster (and a temp directory) for the calling test file, stopped afterwards. */
export function useStoreCluster(setup?: (f: StoreFixture) => Promise<void>): StoreFixture {
  const f = {} as StoreFixture;
  beforeAll(async () => {
    f.env = await startStoreCluster();
    f.store = f.env.store;
    f.tmp = mkdtempSync(join(tmpdir(), 'sluice-objclient-'));
    await setup?.(f);
  }, 60_000);
  afterAll(async () => {
    await f.env?.stop();
    if (f.tmp) rmSync(f.tmp, { recursive: true, force: true });
  });
  return f;
}

/**
 * Retries `check` until it passes (or `ms` run out, then its last error is thrown): container
 * listings follow object writes asynchronously once an update takes longer than the object
 * server's container_update_timeout, as in Swift, which a loaded test machine can reach.
 */
export async function eventually<T>(check: () => Promise<T>, ms = 15_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
