/**
 * One HTTP/1.1 exchange over a raw `node:net` socket, for the fuzzer (scripts/fuzz.ts): the
 * request goes out byte for byte (control bytes, NUL, bare high bytes, malformed lines that
 * Node's own client refuses to send), and the response is read with just enough parsing to know
 * where it ends (interim 1xx skipped; Content-Length, chunked, or until close).
 */
import { connect } from 'node:net';

export interface RawResponse {
  /** 0 when the server closed (or reset) the connection without a status line. */
  status: number;
  headers: Array<[string, string]>;
  body: Buffer;
  /** Socket error or protocol problem, if any (the exchange still resolves). */
  error?: string;
  /** The client gave up after timeoutMs. */
  timedOut: boolean;
  ms: number;
}

const CRLF2 = Buffer.from('\r\n\r\n');

interface Head {
  status: number;
  headers: Array<[string, string]>;
  end: number;
}

function parseHead(buf: Buffer): Head | undefined | 'bad' {
  const end = buf.indexOf(CRLF2);
  if (end < 0) return undefined;
  const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
  if (!m) return 'bad';
  const headers: Array<[string, string]> = [];
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) headers.push([line.slice(0, i).toLowerCase(), line.slice(i + 1).trim()]);
  }
  return { status: Number(m[1]), headers, end: end + 4 };
}

/** Bytes of a complete chunked body at the start of buf, or undefined while incomplete. */
function chunkedLength(buf: Buffer): { length: number; body: Buffer } | undefined | 'bad' {
  let pos = 0;
  const parts: Buffer[] = [];
  for (;;) {
    const eol = buf.indexOf('\r\n', pos);
    if (eol < 0) return undefined;
    const size = parseInt(buf.subarray(pos, eol).toString('latin1').split(';')[0]!.trim(), 16);
    if (!Number.isFinite(size) || size < 0) return 'bad';
    pos = eol + 2;
    if (size === 0) {
      // Trailers (none expected) end with an empty line.
      const end = buf.indexOf(CRLF2, pos - 2);
      if (end < 0) return undefined;
      return { length: end + 4, body: Buffer.concat(parts) };
    }
    if (buf.length < pos + size + 2) return undefined;
    parts.push(buf.subarray(pos, pos + size));
    pos += size + 2;
  }
}

export function rawExchange(host: string, port: number, request: Buffer, opts: { headRequest: boolean; timeoutMs: number }): Promise<RawResponse> {
  const started = performance.now();
  return new Promise((resolve) => {
    const sock = connect({ host, port });
    let buf: Buffer = Buffer.alloc(0);
    let done = false;
    const finish = (r: Omit<RawResponse, 'ms' | 'timedOut'> & { timedOut?: boolean }) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve({ timedOut: false, ...r, ms: performance.now() - started });
    };
    const timer = setTimeout(() => finish({ status: 0, headers: [], body: Buffer.alloc(0), timedOut: true, error: 'timeout' }), opts.timeoutMs);
    /** Tries to read one complete final response from buf; `closed` when the peer has ended. */
    const tryParse = (closed: boolean) => {
      for (;;) {
        const head = parseHead(buf);
        if (head === 'bad') return finish({ status: 0, headers: [], body: buf, error: 'malformed status line' });
        if (!head) {
          if (closed) finish({ status: 0, headers: [], body: buf, error: buf.length ? 'truncated response head' : 'closed without a response' });
          return;
        }
        if (head.status >= 100 && head.status < 200) {
          buf = buf.subarray(head.end);
          continue;
        }
        const rest = buf.subarray(head.end);
        const get = (n: string) => head.headers.find(([k]) => k === n)?.[1];
        const te = get('transfer-encoding');
        if (opts.headRequest || head.status === 204 || head.status === 304) return finish({ status: head.status, headers: head.headers, body: Buffer.alloc(0) });
        if (te && /chunked/i.test(te)) {
          const c = chunkedLength(rest);
          if (c === 'bad') return finish({ status: head.status, headers: head.headers, body: rest, error: 'malformed chunked body' });
          if (c) return finish({ status: head.status, headers: head.headers, body: c.body });
          if (closed) finish({ status: head.status, headers: head.headers, body: rest, error: 'truncated chunked body' });
          return;
        }
        const cl = get('content-length');
        if (cl !== undefined) {
          const n = Number(cl);
          if (rest.length >= n) return finish({ status: head.status, headers: head.headers, body: rest.subarray(0, n) });
          if (closed) finish({ status: head.status, headers: head.headers, body: rest, error: `truncated body (${rest.length} of ${n} bytes)` });
          return;
        }
        if (closed) finish({ status: head.status, headers: head.headers, body: rest });
        return;
      }
    };
    sock.on('data', (d: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, d]) : d;
      tryParse(false);
    });
    sock.on('end', () => tryParse(true));
    sock.on('close', () => tryParse(true));
    sock.on('error', (err: NodeJS.ErrnoException) => {
      if (buf.length) tryParse(true);
      finish({ status: 0, headers: [], body: buf, error: err.code ?? err.message });
    });
    // A server may answer (and close) before the body is all sent; EPIPE is then expected.
    sock.write(request, () => undefined);
  });
}
