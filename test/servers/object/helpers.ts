import { request as httpRequest, createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { SwiftConf } from '../../../src/common/swift-conf';
import { DEFAULT_CONSTRAINTS } from '../../../src/common/constraints';
import { DEFAULT_POLICY } from '../../../src/common/swift-conf';

export interface Resp {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export function testConf(overrides: Partial<SwiftConf['constraints']> = {}): SwiftConf {
  return {
    hash: { prefix: '', suffix: 'test-suffix' },
    policies: [{ ...DEFAULT_POLICY }, { index: 1, name: 'silver', aliases: ['silver'], isDefault: false, deprecated: false, policyType: 'replication' }],
    constraints: { ...DEFAULT_CONSTRAINTS, valid_api_versions: ['v1'], ...overrides },
  };
}

/** A raw HTTP request; `path` is sent verbatim, header values as latin-1 (raw bytes). */
export function req(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string | number> = {},
  body?: Buffer | string | AsyncIterable<Buffer>,
): Promise<Resp> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const r = httpRequest({ host: url.hostname, port: url.port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    r.on('error', reject);
    if (body === undefined) r.end();
    // Strings go as Buffers: Node would otherwise send the headers in the body's (UTF-8) encoding.
    else if (typeof body === 'string' || Buffer.isBuffer(body)) r.end(Buffer.from(body));
    else {
      (async () => {
        for await (const chunk of body) {
          if (!r.write(chunk)) await new Promise((res) => r.once('drain', res));
        }
        r.end();
      })().catch(reject);
    }
  });
}

/** Recursively lists files under dir (relative paths). */
export function walk(dir: string, base = dir): string[] {
  let out: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  for (const e of entries) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out = out.concat(walk(p, base));
    else out.push(p.slice(base.length + 1));
  }
  return out.sort();
}

export interface CapturedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
}

/** A fake container server recording the updates it receives. */
export async function fakeContainer(status = 201, port = 0): Promise<{ server: Server; host: string; port: number; calls: CapturedRequest[]; close(): Promise<void> }> {
  const calls: CapturedRequest[] = [];
  const server = createServer((rq, rs) => {
    rq.resume();
    rq.on('end', () => {
      calls.push({ method: rq.method!, url: rq.url!, headers: rq.headers, rawHeaders: rq.rawHeaders });
      rs.writeHead(status, { 'Content-Length': 0 });
      rs.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const p = (server.address() as AddressInfo).port;
  return {
    server,
    host: '127.0.0.1',
    port: p,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function ts(seconds: number): string {
  return seconds.toFixed(5).padStart(16, '0');
}

/** Sends raw bytes on a fresh socket and returns everything the server answered. */
export async function rawRequest(base: string, data: string | Buffer, halfClose = false): Promise<string> {
  const { connect } = await import('node:net');
  const url = new URL(base);
  return new Promise((resolve) => {
    const s = connect(Number(url.port), url.hostname, () => {
      s.write(data);
      if (halfClose) s.end();
    });
    let out = '';
    s.on('data', (d: Buffer) => {
      out += d.toString('latin1');
      if (!halfClose && /\r\n\r\n/.test(out)) {
        const m = /content-length: (\d+)/i.exec(out);
        const bodyStart = out.indexOf('\r\n\r\n') + 4;
        if (m && out.length - bodyStart >= Number(m[1])) s.destroy();
      }
    });
    s.on('close', () => resolve(out));
    s.on('error', () => resolve(out));
  });
}
