import { request } from 'node:http';
import { parseSwiftConf, type SwiftConf } from '../../../src/common/swift-conf';

export interface Resp {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Body as latin-1 of the raw bytes, like header values. */
  raw: Buffer;
  text: string;
}

/** One raw HTTP request (path sent byte for byte; header values as latin-1 strings). */
export function call(base: string, method: string, path: string, headers: Record<string, string> = {}): Promise<Resp> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const r = request({ host: u.hostname, port: u.port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const raw = Buffer.concat(chunks);
        resolve({ status: res.statusCode!, headers: res.headers, raw, text: raw.toString('utf8') });
      });
      res.on('error', reject);
    });
    r.on('error', reject);
    r.end();
  });
}

/** A swift.conf with two policies (0 default "gold", 1 "silver"). */
export function twoPolicyConf(): SwiftConf {
  return parseSwiftConf(`
[swift-hash]
swift_hash_path_suffix = test-suffix

[storage-policy:0]
name = gold
default = yes

[storage-policy:1]
name = silver
`);
}

let tick = 1_700_000_000;
/** Strictly increasing X-Timestamp values in normal form. */
export function ts(): string {
  tick += 1;
  return `${tick}.00000`;
}
