/**
 * The soak's requests: a seeded mix of object PUT/GET/HEAD/DELETE of varied sizes, ranges,
 * container listings, POSTs, account HEADs, TempAuth logins and some requests that must be
 * refused. Each connection (lane) owns its own object names, so the lane's model of what exists
 * is exact and every answer is checked against it: status, and for reads the length and MD5.
 */
import { createHash } from 'node:crypto';
import { SeededRandom } from './seeded-random';

export const CONTAINERS = ['soak0', 'soak1', 'soak2', 'soak3'];
/** Object names per lane: overwritten again and again, so the disk use stays bounded. */
const NAMES_PER_LANE = 40;
/** Body sizes and how often each is picked. */
const SIZES: [number, number][] = [
  [0, 2],
  [100, 6],
  [4 * 1024, 6],
  [64 * 1024, 3],
  [256 * 1024, 1],
  [1024 * 1024, 0.2],
];

export interface Body {
  bytes: Buffer;
  md5: string;
}

/** One body per size, the same for every lane (bytes from the seed). */
export function bodies(seed: number): Map<number, Body> {
  const rnd = new SeededRandom('soak-bodies', seed);
  const out = new Map<number, Body>();
  for (const [size] of SIZES) {
    const bytes = Buffer.from(rnd.bytes(size));
    out.set(size, { bytes, md5: md5(bytes) });
  }
  return out;
}

export interface SoakRequest {
  kind: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** Checks the answer; a string says what was wrong. Updates the lane's model when it was right. */
  check(status: number, headers: Record<string, string | string[] | undefined>, body: Buffer): string | undefined;
}

export interface Credentials {
  token: string;
  /** The account path, e.g. /v1/AUTH_test. */
  account: string;
  user: string;
  key: string;
}

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

function isJsonArray(body: Buffer): boolean {
  try {
    return Array.isArray(JSON.parse(body.toString()));
  } catch {
    return false;
  }
}

const expectStatus = (want: number[], got: number) => (want.includes(got) ? undefined : `status ${got}, expected ${want.join(' or ')}`);

/** A lane: one connection's stream of requests and its model of the objects it owns. */
export class Lane {
  private readonly rnd: SeededRandom;
  /** name → size of what the lane last stored there. */
  private readonly stored = new Map<string, number>();

  constructor(
    readonly index: number,
    seed: number,
    private readonly creds: Credentials,
    private readonly sizes: Map<number, Body>,
  ) {
    this.rnd = new SeededRandom(`soak-lane-${index}`, seed);
  }

  private name(): string {
    const n = Math.floor(this.rnd.next() * NAMES_PER_LANE);
    return `${CONTAINERS[n % CONTAINERS.length]}/lane${this.index}/o${n}`;
  }

  private existing(): string | undefined {
    if (this.stored.size === 0) return undefined;
    const names = [...this.stored.keys()];
    return names[Math.floor(this.rnd.next() * names.length)];
  }

  private obj(name: string): string {
    return `${this.creds.account}/${name}`;
  }

  private get auth(): Record<string, string> {
    return { 'X-Auth-Token': this.creds.token };
  }

  next(): SoakRequest {
    const kind = this.rnd.weighted<string>([
      ['put', 24],
      ['get', 20],
      ['range', 5],
      ['head', 10],
      ['delete', 7],
      ['listing', 8],
      ['post-object', 5],
      ['post-container', 2],
      ['account-head', 5],
      ['auth', 3],
      ['bad-token', 4],
      ['bad-range', 3],
      ['long-name', 2],
      ['missing', 2],
    ]);
    const existing = this.existing();
    switch (kind) {
      case 'get':
      case 'range':
      case 'head':
      case 'delete':
      case 'post-object':
      case 'bad-range':
        if (existing !== undefined) return this.onExisting(kind, existing);
        return this.put();
      case 'put':
        return this.put();
      case 'listing': {
        const c = CONTAINERS[Math.floor(this.rnd.next() * CONTAINERS.length)]!;
        return {
          kind,
          method: 'GET',
          path: `${this.creds.account}/${c}?format=json&prefix=lane${this.index}/`,
          headers: this.auth,
          check: (status, _h, body) => expectStatus([200], status) ?? (isJsonArray(body) ? undefined : 'listing is not a JSON array'),
        };
      }
      case 'post-container':
        return { kind, method: 'POST', path: `${this.creds.account}/${CONTAINERS[this.index % CONTAINERS.length]}`, headers: { ...this.auth, 'X-Container-Meta-Soak': String(this.index) }, check: (s) => expectStatus([204], s) };
      case 'account-head':
        return { kind, method: 'HEAD', path: this.creds.account, headers: this.auth, check: (s) => expectStatus([204], s) };
      case 'auth':
        return {
          kind,
          method: 'GET',
          path: '/auth/v1.0',
          headers: { 'X-Auth-User': this.creds.user, 'X-Auth-Key': this.creds.key },
          check: (s, h) => expectStatus([200], s) ?? (h['x-auth-token'] ? undefined : 'no X-Auth-Token'),
        };
      case 'bad-token':
        return { kind, method: 'GET', path: this.obj(this.name()), headers: { 'X-Auth-Token': `AUTH_tk${'0'.repeat(32)}` }, check: (s) => expectStatus([401], s) };
      case 'long-name':
        return { kind, method: 'PUT', path: this.obj(`soak0/${'n'.repeat(1025)}`), headers: this.auth, body: Buffer.alloc(0), check: (s) => expectStatus([400], s) };
      default: {
        const name = `soak1/lane${this.index}/never`;
        return { kind: 'missing', method: 'GET', path: this.obj(name), headers: this.auth, check: (s) => expectStatus([404], s) };
      }
    }
  }

  private put(): SoakRequest {
    const name = this.name();
    const size = this.rnd.weighted(SIZES);
    const body = this.sizes.get(size)!;
    return {
      kind: 'put',
      method: 'PUT',
      path: this.obj(name),
      headers: { ...this.auth, 'Content-Type': 'application/octet-stream' },
      body: body.bytes,
      check: (status, h) => {
        const bad = expectStatus([201], status) ?? (h.etag === body.md5 ? undefined : `ETag ${String(h.etag)}, expected ${body.md5}`);
        if (!bad) this.stored.set(name, size);
        return bad;
      },
    };
  }

  private onExisting(kind: string, name: string): SoakRequest {
    const size = this.stored.get(name)!;
    const body = this.sizes.get(size)!;
    const path = this.obj(name);
    // Ranges of an empty object are a corner of their own (Swift's swob), not what the soak is for.
    if (size === 0 && (kind === 'range' || kind === 'bad-range')) kind = 'head';
    switch (kind) {
      case 'get':
        return { kind, method: 'GET', path, headers: this.auth, check: (s, _h, got) => expectStatus([200], s) ?? (md5(got) === body.md5 ? undefined : `body of ${got.length} bytes, MD5 ${md5(got)}, expected ${size} bytes ${body.md5}`) };
      case 'range': {
        // A suffix range: 206 with the last (up to) ten bytes.
        const want = Math.min(size, 10);
        return {
          kind,
          method: 'GET',
          path,
          headers: { ...this.auth, Range: 'bytes=-10' },
          check: (s, _h, got) => expectStatus([206], s) ?? (got.equals(body.bytes.subarray(size - want)) ? undefined : `range body of ${got.length} bytes is not the object's last ${want}`),
        };
      }
      case 'bad-range':
        return { kind, method: 'GET', path, headers: { ...this.auth, Range: `bytes=${size + 10}-` }, check: (s) => expectStatus([416], s) };
      case 'head':
        return { kind, method: 'HEAD', path, headers: this.auth, check: (s, h) => expectStatus([200], s) ?? (h['content-length'] === String(size) ? undefined : `Content-Length ${String(h['content-length'])}, expected ${size}`) };
      case 'post-object':
        return { kind, method: 'POST', path, headers: { ...this.auth, 'X-Object-Meta-Soak': String(this.rnd.next()).slice(2, 10) }, check: (s) => expectStatus([202], s) };
      default:
        return {
          kind,
          method: 'DELETE',
          path,
          headers: this.auth,
          check: (s) => {
            const bad = expectStatus([204], s);
            if (!bad) this.stored.delete(name);
            return bad;
          },
        };
    }
  }
}
