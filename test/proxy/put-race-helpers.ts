/**
 * Concurrent PUTs of one object whose timestamps are taken in one order and whose bodies reach
 * the object servers in the other: the race of issue 17, with nothing forged. The proxy takes a
 * PUT's X-Timestamp when the request's headers arrive and sends a small body on to the replicas
 * once it has all of it, so headers sent in order 0..n-1 and bodies in order n-1..0 give the
 * newest write (n-1) to the object servers first and every older one after it.
 */
import { request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { createHash } from 'node:crypto';

export interface RaceAnswer {
  index: number;
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** The body write `i` sends: names its index, so the stored object says which write won. */
export function raceBody(i: number): Buffer {
  return Buffer.from(`write ${String(i).padStart(3, '0')}\n`.repeat(64));
}

export const md5 = (b: Buffer | string): string => createHash('md5').update(b).digest('hex');

/**
 * `n` PUTs of `path`: request i's headers go out at i * spacingMs, its body (after every
 * request's headers) in reverse order, `spacingMs` apart. Resolves with every answer.
 */
export async function racePuts(base: string, path: string, n: number, spacingMs: number, headers: Record<string, string> = {}): Promise<RaceAnswer[]> {
  const u = new URL(base);
  const reqs: ReturnType<typeof request>[] = [];
  const answers: Promise<RaceAnswer>[] = [];
  for (let i = 0; i < n; i++) {
    const body = raceBody(i);
    const r = request({
      host: u.hostname,
      port: u.port,
      method: 'PUT',
      path,
      agent: false,
      headers: { ...headers, 'content-type': 'text/plain', 'content-length': String(body.length) },
    });
    answers.push(
      new Promise<RaceAnswer>((resolve, reject) => {
        r.on('response', (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ index: i, status: res.statusCode!, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        });
        r.on('error', reject);
      }),
    );
    r.flushHeaders();
    reqs.push(r);
    await sleep(spacingMs);
  }
  for (let i = n - 1; i >= 0; i--) {
    reqs[i]!.end(raceBody(i));
    await sleep(spacingMs);
  }
  return Promise.all(answers);
}

/** Status -> count, e.g. { 201: 1, 202: 31 }. */
export function statusCounts(answers: readonly { status: number }[]): Record<number, number> {
  const out: Record<number, number> = {};
  for (const a of answers) out[a.status] = (out[a.status] ?? 0) + 1;
  return out;
}

/** What swob's HTTPAccepted says when Swift's proxy answers a superseded PUT. */
export const ACCEPTED_BODY = '<html><h1>Accepted</h1><p>The request is accepted for processing.</p></html>';
