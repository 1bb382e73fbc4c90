/**
 * The differential harness's wire client: one request per connection, written byte for byte
 * (raw bytes in the target, header names in the case given, bodies without a length), and the
 * answer read with its status line, reason phrase and header names exactly as the server wrote
 * them, because the harness compares those too (issue 11, items 1, 4 and 7).
 */
import { connect } from 'node:net';

export interface WireRequest {
  method: string;
  /** The request target as bytes (a string is taken as latin-1, one byte per character). */
  target: Buffer | string;
  /** In order, names in the case to send. Values are latin-1 byte strings. */
  headers: Array<[string, string]>;
  body?: Buffer;
  /** `HTTP/1.1` unless given. */
  version?: string;
}

export interface WireResponse {
  /** 0 when the server closed the connection without a status line. */
  status: number;
  reason: string;
  /** In the order received, names as written. */
  headers: Array<[string, string]>;
  body: Buffer;
  /** The bytes received, for --verbose. */
  raw: Buffer;
  error?: string;
}

export function encodeRequest(req: WireRequest): Buffer {
  const target = typeof req.target === 'string' ? Buffer.from(req.target, 'latin1') : req.target;
  const head = req.headers.map(([k, v]) => `${k}: ${v}\r\n`).join('');
  return Buffer.concat([Buffer.from(`${req.method} `, 'latin1'), target, Buffer.from(` ${req.version ?? 'HTTP/1.1'}\r\n${head}\r\n`, 'latin1'), req.body ?? Buffer.alloc(0)]);
}

const END_OF_HEAD = Buffer.from('\r\n\r\n');

/** Splits a complete head into status, reason and headers (names untouched). */
export function parseResponseHead(head: string): Pick<WireResponse, 'status' | 'reason' | 'headers'> | undefined {
  const [statusLine, ...lines] = head.split('\r\n');
  const m = /^HTTP\/\d\.\d (\d{3})(?: (.*))?$/.exec(statusLine ?? '');
  if (!m) return undefined;
  const headers: Array<[string, string]> = [];
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.push([line.slice(0, colon), line.slice(colon + 1).trim()]);
  }
  return { status: Number(m[1]), reason: m[2] ?? '', headers };
}

/** The body of a chunked message starting at `from`, or undefined while incomplete. */
function dechunk(buf: Buffer, from: number): Buffer | undefined {
  const parts: Buffer[] = [];
  let pos = from;
  for (;;) {
    const eol = buf.indexOf('\r\n', pos);
    if (eol < 0) return undefined;
    const size = parseInt(buf.subarray(pos, eol).toString('latin1'), 16);
    if (!(size >= 0)) return undefined;
    if (size === 0) return buf.indexOf(END_OF_HEAD, eol - 2) >= 0 ? Buffer.concat(parts) : undefined;
    if (buf.length < eol + 2 + size + 2) return undefined;
    parts.push(buf.subarray(eol + 2, eol + 2 + size));
    pos = eol + 2 + size + 2;
  }
}

/**
 * Sends one request on a new connection and resolves with the first final answer (1xx skipped).
 * Never rejects: connection errors and timeouts come back in `error`.
 */
export function exchange(port: number, req: WireRequest, timeoutMs = 20_000): Promise<WireResponse> {
  return new Promise((resolve) => {
    const sock = connect({ host: '127.0.0.1', port });
    let buf = Buffer.alloc(0);
    let settled = false;
    const done = (r: Omit<WireResponse, 'raw'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      resolve({ ...r, raw: buf });
    };
    const timer = setTimeout(() => done({ status: 0, reason: '', headers: [], body: Buffer.alloc(0), error: 'timeout' }), timeoutMs);
    const attempt = (closed: boolean) => {
      let start = 0;
      for (;;) {
        const end = buf.indexOf(END_OF_HEAD, start);
        if (end < 0) {
          if (closed) done({ status: 0, reason: '', headers: [], body: Buffer.alloc(0), error: buf.length ? 'truncated head' : 'closed without an answer' });
          return;
        }
        const head = parseResponseHead(buf.subarray(start, end).toString('latin1'));
        if (!head) return done({ status: 0, reason: '', headers: [], body: Buffer.alloc(0), error: 'malformed status line' });
        const bodyStart = end + 4;
        if (head.status < 200) {
          start = bodyStart;
          continue;
        }
        const get = (name: string) => head.headers.find(([k]) => k.toLowerCase() === name)?.[1];
        if (req.method === 'HEAD' || head.status === 204 || head.status === 304) return done({ ...head, body: Buffer.alloc(0) });
        if (/chunked/i.test(get('transfer-encoding') ?? '')) {
          const body = dechunk(buf, bodyStart);
          if (body) return done({ ...head, body });
          if (closed) done({ ...head, body: buf.subarray(bodyStart), error: 'truncated chunked body' });
          return;
        }
        const length = get('content-length');
        if (length !== undefined) {
          const n = Number(length);
          if (buf.length - bodyStart >= n) return done({ ...head, body: buf.subarray(bodyStart, bodyStart + n) });
          if (closed) done({ ...head, body: buf.subarray(bodyStart), error: 'truncated body' });
          return;
        }
        if (closed) done({ ...head, body: buf.subarray(bodyStart) });
        return;
      }
    };
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      attempt(false);
    });
    sock.on('end', () => attempt(true));
    sock.on('close', () => attempt(true));
    sock.on('error', (err: NodeJS.ErrnoException) => {
      if (buf.length) attempt(true);
      done({ status: 0, reason: '', headers: [], body: Buffer.alloc(0), error: err.code ?? err.message });
    });
    // An answer may come (and the connection close) before the body is all written.
    sock.write(encodeRequest(req), () => undefined);
  });
}
