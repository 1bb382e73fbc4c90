/**
 * What eventlet lets through and Node's HTTP parser refuses. eventlet (Swift's HTTP server)
 * takes the request target's bytes as they come: a raw UTF-8 name is served as its
 * percent-encoded form would be, and invalid UTF-8 reaches Swift's proxy, which answers 412.
 * Node's parser refuses any byte >= 0x80 in the request line with a bare 400, and a request
 * line ended by LF alone.
 *
 * Node's parser reads each connection itself, natively (the fast path: no stream events per
 * read). When it refuses a request eventlet takes, the connection goes on from that request
 * through a RequestStream: a step in front of a new parser that percent-encodes those bytes of
 * each request target, and only those. It follows the framing of every request on the
 * connection (Content-Length, chunked) so that header and body bytes are never touched, and it
 * hands a chunk on as it is when nothing in it changes. On anything it does not follow exactly
 * (an Upgrade, CONNECT, both or malformed length headers, folded header lines) it stops
 * rewriting for the rest of the connection and leaves the bytes to Node's parser, which
 * refuses such requests anyway.
 *
 * The step also records each request line's length as sent (eventlet's url_length_limit counts
 * the raw line, terminator included, before any encoding), and drops what a client sends after
 * a request that ends its connection (`Connection: close`, HTTP/1.0 without keep-alive):
 * eventlet never reads it, where Node's parser would answer it with a 400 sent ahead of the
 * pending answer (on a natively read connection, recoverParseError drops it).
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';

const enum State {
  LineStart,
  Method,
  Target,
  Version,
  Headers,
  Body,
  ChunkSize,
  ChunkData,
  ChunkEnd,
  Trailers,
  /** After a request that ends the connection: nothing more reaches the parser. */
  Drop,
  /** Rewriting stopped: bytes go to the parser unchanged. */
  Pass,
}

const SP = 0x20;
const CR = 0x0d;
const LF = 0x0a;
const HEX = '0123456789ABCDEF';
const CRLF = Buffer.from('\r\n');
/** Ends a request line cut at url_length_limit, with an empty head (HTTP/1.0: no Host needed). */
const CUT_LINE = Buffer.from(' HTTP/1.0\r\n\r\n');
/** Enough of a method or version to tell them apart (longer ones are refused by Node anyway). */
const SHORT_FIELD = 24;

export class RequestStream {
  /** Bytes of each request line as the client sent it (terminator included), oldest first. */
  readonly lineLengths: number[] = [];
  /** Where each request began in the chunks given so far, when asked for (a scan, see messageStartBefore). */
  starts?: number[];
  private fed = 0;
  private state = State.LineStart;
  private lineLength = 0;
  private method = '';
  private version = '';
  private sawCr = false;
  /** A header, chunk-size or trailer line split across chunks, as latin-1. */
  private partial = '';
  private remaining = 0;
  private contentLength: number | undefined;
  private transferEncoding: string | undefined;
  private connection = '';
  private upgrade = false;

  /**
   * @param maxRequestLine eventlet's url_length_limit: a request line reaching it is cut there.
   * @param maxLine bound on a header or chunk-size line held across chunks (Node refuses longer heads).
   */
  constructor(
    private readonly maxRequestLine: number,
    private readonly maxLine: number,
  ) {}

  /** The bytes to hand to the parser for `chunk`: `chunk` itself when nothing in it changes. */
  transform(chunk: Buffer): Buffer {
    const out = this.step(chunk);
    this.fed += chunk.length;
    return out;
  }

  /**
   * Where in `bytes`, which begin with a request, the last request begun before `at` starts;
   * undefined when the framing before `at` is not one this step follows. Request lines are not
   * cut here (their length is for the caller to judge).
   */
  static messageStartBefore(bytes: Buffer, at: number, maxLine: number): number | undefined {
    const scan = new RequestStream(Infinity, maxLine);
    scan.starts = [];
    scan.transform(bytes.subarray(0, at));
    // Framing it could not follow before `at` leaves the request's start unknown.
    if (scan.state === State.Pass || scan.state === State.Drop) return undefined;
    return scan.starts.pop();
  }

  private step(chunk: Buffer): Buffer {
    if (this.state === State.Pass) return chunk;
    if (this.state === State.Drop) return chunk.subarray(0, 0);
    let pieces: Buffer[] | undefined;
    let copied = 0;
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      switch (this.state as State) {
        case State.LineStart: {
          // Node's parser skips empty lines before a request line.
          const b = chunk[i]!;
          if (b === CR || b === LF) i++;
          else {
            this.starts?.push(this.fed + i);
            this.state = State.Method;
            this.lineLength = 0;
            this.method = '';
            this.version = '';
            this.sawCr = false;
          }
          break;
        }
        case State.Method: {
          // Up to the space that ends the method (or the end of the chunk).
          const sp = chunk.indexOf(SP, i);
          const end = sp < 0 ? n : sp;
          for (let j = i; j < end; j++) if (chunk[j] === CR || chunk[j] === LF) return this.passFrom(chunk, pieces, copied);
          if (this.method.length < SHORT_FIELD) this.method += chunk.toString('latin1', i, Math.min(end, i + SHORT_FIELD));
          this.lineLength += end - i + (sp < 0 ? 0 : 1);
          // A method this long is refused by Node's parser anyway.
          if (this.lineLength >= this.maxRequestLine) return this.passFrom(chunk, pieces, copied);
          i = sp < 0 ? n : sp + 1;
          if (sp >= 0) this.state = State.Target;
          break;
        }
        case State.Target: {
          const sp = chunk.indexOf(SP, i);
          const end = sp < 0 ? n : sp + 1;
          // The byte at which the line reaches url_length_limit, if it is in this chunk.
          const cut = i + this.maxRequestLine - this.lineLength - 1;
          const stop = Math.min(end, cut);
          for (let j = i; j < stop; j++) {
            const b = chunk[j]!;
            if (b < 0x80) {
              if (b === CR || b === LF) return this.passFrom(chunk, pieces, copied);
              continue;
            }
            pieces ??= [];
            pieces.push(chunk.subarray(copied, j), Buffer.from(`%${HEX[b >> 4]}${HEX[b & 15]}`, 'latin1'));
            copied = j + 1;
          }
          if (cut < end) {
            // eventlet stops reading the line here (url_length_limit) and answers 414. The
            // parser gets the line ended, so the front door sees a request to refuse, and
            // nothing after it: Node would otherwise read on to its own, larger limit.
            this.lineLengths.push(this.maxRequestLine);
            this.state = State.Drop;
            pieces ??= [];
            pieces.push(chunk.subarray(copied, cut), CUT_LINE);
            return Buffer.concat(pieces);
          }
          this.lineLength += end - i;
          i = end;
          if (sp >= 0) this.state = State.Version;
          break;
        }
        case State.Version: {
          const lf = chunk.indexOf(LF, i);
          const end = lf < 0 ? n : lf;
          for (let j = i; j < end; j++) {
            const b = chunk[j]!;
            if (b === CR) this.sawCr = true;
            else if (this.version.length < SHORT_FIELD) this.version += String.fromCharCode(b);
          }
          this.lineLength += end - i + (lf < 0 ? 0 : 1);
          i = lf < 0 ? n : lf + 1;
          if (lf >= 0) {
            this.lineLengths.push(this.lineLength);
            this.startHeaders();
            // eventlet ends a request line at LF alone too; Node's parser wants CR LF.
            if (!this.sawCr) {
              pieces ??= [];
              pieces.push(chunk.subarray(copied, lf), CRLF);
              copied = lf + 1;
            }
          }
          break;
        }
        case State.Headers:
        case State.ChunkSize:
        case State.Trailers: {
          const eol = chunk.indexOf(LF, i);
          if (eol < 0) {
            this.partial += chunk.toString('latin1', i, n);
            if (this.partial.length > this.maxLine) return this.passFrom(chunk, pieces, copied);
            i = n;
            break;
          }
          // Most header lines matter only for their name: look at its first bytes before slicing.
          const line = this.state !== State.Headers || this.partial.length > 0 || eol - i < 3 || mayFrame(chunk[i]!, chunk[i + 1]!) ? stripCr(this.partial + chunk.toString('latin1', i, eol)) : undefined;
          this.partial = '';
          i = eol + 1;
          if (line !== undefined && !this.line(line)) return this.passFrom(chunk, pieces, copied);
          break;
        }
        case State.Body:
        case State.ChunkData: {
          const take = Math.min(this.remaining, n - i);
          i += take;
          this.remaining -= take;
          if (this.remaining === 0) {
            if (this.state === State.Body) this.endMessage();
            else {
              this.state = State.ChunkEnd;
              this.remaining = 2;
            }
          }
          break;
        }
        case State.ChunkEnd: {
          const b = chunk[i++]!;
          if (b !== (this.remaining === 2 ? CR : LF)) return this.passFrom(chunk, pieces, copied);
          if (--this.remaining === 0) this.state = State.ChunkSize;
          break;
        }
        case State.Drop: {
          pieces ??= [];
          pieces.push(chunk.subarray(copied, i));
          return Buffer.concat(pieces);
        }
        case State.Pass:
          return this.passFrom(chunk, pieces, copied);
      }
    }
    if (!pieces) return chunk;
    pieces.push(chunk.subarray(copied));
    return Buffer.concat(pieces);
  }

  private passFrom(chunk: Buffer, pieces: Buffer[] | undefined, copied: number): Buffer {
    this.state = State.Pass;
    this.partial = '';
    if (!pieces) return chunk;
    pieces.push(chunk.subarray(copied));
    return Buffer.concat(pieces);
  }

  private startHeaders(): void {
    this.state = State.Headers;
    this.contentLength = undefined;
    this.transferEncoding = undefined;
    this.connection = '';
    this.upgrade = false;
  }

  /** One complete line of the head, a chunk size or a trailer; false when framing is unclear. */
  private line(line: string): boolean {
    if (this.state === State.ChunkSize) {
      const m = /^([0-9a-fA-F]{1,15})[ \t]*(;.*)?$/.exec(line);
      if (!m) return false;
      this.remaining = parseInt(m[1]!, 16);
      this.state = this.remaining === 0 ? State.Trailers : State.ChunkData;
      return true;
    }
    if (line === '') {
      if (this.state === State.Trailers) this.endMessage();
      else return this.endHead();
      return true;
    }
    if (this.state === State.Trailers) return true;
    // A folded line continues the one before: not followed here.
    if (line.charCodeAt(0) === SP || line.charCodeAt(0) === 0x09) return false;
    const colon = line.indexOf(':');
    if (colon <= 0) return false;
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'content-length') {
      if (this.contentLength !== undefined || !/^\d{1,15}$/.test(value)) return false;
      this.contentLength = Number(value);
    } else if (name === 'transfer-encoding') {
      this.transferEncoding = this.transferEncoding === undefined ? value : `${this.transferEncoding},${value}`;
    } else if (name === 'connection') {
      this.connection += `,${value}`;
    } else if (name === 'upgrade') {
      this.upgrade = true;
    }
    return true;
  }

  private endHead(): boolean {
    if (this.upgrade || this.method === 'CONNECT') return false;
    if (this.transferEncoding !== undefined) {
      if (this.contentLength !== undefined) return false;
      const codings = this.transferEncoding.split(',').map((c) => c.trim().toLowerCase());
      if (codings[codings.length - 1] !== 'chunked') return false;
      this.state = State.ChunkSize;
      return true;
    }
    if (this.contentLength) {
      this.remaining = this.contentLength;
      this.state = State.Body;
    } else this.endMessage();
    return true;
  }

  /** After a request's last byte: the next request line, or nothing when this one ends the connection. */
  private endMessage(): void {
    const tokens = this.connection.toLowerCase().split(',').map((t) => t.trim());
    // As Node's parser decides it: HTTP/1.0 keeps the connection only when asked to.
    const keepAlive = this.version === 'HTTP/1.0' ? tokens.includes('keep-alive') : !tokens.includes('close');
    this.state = keepAlive ? State.LineStart : State.Drop;
  }
}

/**
 * Whether a header line starting with these two bytes may be one that frames the request
 * (Content-Length, Connection, Transfer-Encoding, Upgrade: "co", "tr", "up" in any case).
 */
function mayFrame(b0: number, b1: number): boolean {
  const a = b0 | 0x20;
  const b = b1 | 0x20;
  return (a === 0x63 && b === 0x6f) || (a === 0x74 && b === 0x72) || (a === 0x75 && b === 0x70);
}

function stripCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

const streams = new WeakMap<object, RequestStream>();

/**
 * The raw length of the next request line read on `socket` (requests reach the listener in the
 * order they came), or undefined when the step did not see it.
 */
export function takeRequestLineLength(socket: object | null | undefined): number | undefined {
  return socket ? streams.get(socket)?.lineLengths.shift() : undefined;
}

/**
 * Node's HTTP parser as a server socket carries it (`socket.parser`): its native callbacks are
 * slots numbered by constants on its class, and it reads the socket itself when "consuming".
 */
interface NodeParser {
  [slot: number]: ((this: NodeParser, ...args: unknown[]) => unknown) | null;
  _consumed: boolean;
  socket: unknown;
  headersCompleted(): boolean;
  getCurrentBuffer(): Buffer;
  unconsume(): void;
  remove(): void;
  close(): void;
  constructor: { kOnMessageBegin: number; kOnMessageComplete: number; kOnExecute: number };
}

/** What is known of a connection whose bytes Node's parser reads itself (see installRequestLineStep). */
interface Watch {
  parser: NodeParser;
  begun: number;
  done: number;
  /** The next chunk starts at a request's first byte (or a blank line before one). */
  atBoundary: boolean;
  /** The chunks of a head still incomplete when its last chunk ended (at most the head limit). */
  openHead?: { chunks: Buffer[]; bytes: number; fromBoundary: boolean };
  /** The listeners Node's server put on the socket, removed when the step takes over. */
  nodeListeners: [event: string, listener: (...args: unknown[]) => void][];
}

const SOCKET_EVENTS = ['data', 'end', 'close', 'drain', 'timeout', 'pause', 'resume'] as const;
const watches = new WeakMap<object, Watch>();
const byParser = new WeakMap<object, Watch>();
/** Connections handed to the step after Node's parser refused a request on them. */
const stepped = new WeakSet<object>();
const COUNTS_COMPLETIONS = Symbol('sluice.countsCompletions');

function hasNativeHooks(parser: NodeParser): boolean {
  const P = parser.constructor;
  return (
    typeof P?.kOnMessageBegin === 'number' &&
    typeof P.kOnMessageComplete === 'number' &&
    typeof P.kOnExecute === 'number' &&
    typeof parser[P.kOnExecute] === 'function' &&
    typeof parser.headersCompleted === 'function' &&
    typeof parser.getCurrentBuffer === 'function' &&
    typeof parser.unconsume === 'function' &&
    typeof parser.remove === 'function'
  );
}

function onMessageBegin(this: NodeParser): void {
  const w = byParser.get(this);
  if (w) w.begun++;
}

/**
 * Gives each connection Node's own parser, reading the socket natively (the fast path: no
 * stream events per read), and keeps just enough to hand the connection to a RequestStream
 * when that parser refuses a request eventlet takes: raw bytes >= 0x80 in the target, a request
 * line ended by LF alone (see recoverParseError). It counts requests begun and completed, so it
 * knows whether a chunk starts at a request, and keeps the chunks of a head left incomplete at
 * a chunk's end (rare: heads are one read). Connections taken over, and any Node did not let
 * its parser read itself, run through a RequestStream from then on: Node reads such a socket
 * through its `data` events, whose parser listener is replaced here by one that hands it the
 * transformed bytes.
 */
export function installRequestLineStep(server: Server, maxRequestLine: number, maxLine: number): void {
  let before: Map<string, unknown[]> | undefined;
  // Node's own connection listener runs between these two: what it adds is what it owns.
  server.prependListener('connection', (socket: Socket) => {
    before = new Map(SOCKET_EVENTS.map((e) => [e, socket.listeners(e)]));
  });
  server.on('connection', (socket: Socket) => {
    const parser = (socket as unknown as { parser?: NodeParser }).parser;
    const previous = before;
    before = undefined;
    // A parser without the callbacks and state this relies on (another Node) gets the step from the start.
    if (stepped.has(socket) || !parser?._consumed || !previous || !hasNativeHooks(parser)) {
      reroute(socket, maxRequestLine, maxLine);
      return;
    }
    const nodeListeners: Watch['nodeListeners'] = [];
    for (const e of SOCKET_EVENTS) {
      const had = previous.get(e) ?? [];
      for (const l of socket.listeners(e)) if (!had.includes(l)) nodeListeners.push([e, l as (...args: unknown[]) => void]);
    }
    const watch: Watch = { parser, begun: 0, done: 0, atBoundary: true, nodeListeners };
    watches.set(socket, watch);
    byParser.set(parser, watch);
    // Node pools its parsers: the next connection's must not find this one's watch.
    socket.once('close', () => {
      if (byParser.get(parser) === watch) byParser.delete(parser);
    });
    const P = parser.constructor;
    parser[P.kOnMessageBegin] = onMessageBegin;
    // Node sets this one once per pooled parser: wrapped once, it counts for whichever connection has the parser.
    const complete = parser[P.kOnMessageComplete] as (((this: NodeParser) => unknown) & { [COUNTS_COMPLETIONS]?: true }) | null;
    if (complete && !complete[COUNTS_COMPLETIONS]) {
      const counting = Object.assign(function (this: NodeParser) {
        const w = byParser.get(this);
        if (w) w.done++;
        return complete.call(this);
      }, { [COUNTS_COMPLETIONS]: true as const });
      parser[P.kOnMessageComplete] = counting;
    }
    const execute = parser[P.kOnExecute]!;
    parser[P.kOnExecute] = function (this: NodeParser, ret: unknown, ...rest: unknown[]) {
      const out = execute.call(this, ret, ...rest);
      if (ret instanceof Error || byParser.get(this) !== watch) return out;
      const open = watch.begun > watch.done;
      if (open && !this.headersCompleted()) {
        watch.openHead ??= { chunks: [], bytes: 0, fromBoundary: watch.atBoundary };
        const chunk = this.getCurrentBuffer();
        watch.openHead.chunks.push(chunk);
        watch.openHead.bytes += chunk.length;
        // Past Node's head limit the parser fails anyway; what is kept stays bounded.
        if (watch.openHead.bytes > maxLine + maxRequestLine) watch.openHead = { chunks: [], bytes: 0, fromBoundary: false };
      } else watch.openHead = undefined;
      watch.atBoundary = !open;
      return out;
    };
  });
}

/** Node's parser reads through `data` events: its listener gets the bytes a RequestStream lets through. */
function reroute(socket: Socket, maxRequestLine: number, maxLine: number): void {
  const parserListeners = socket.listeners('data') as Array<(chunk: Buffer) => void>;
  if (parserListeners.length !== 1) return;
  const feed = parserListeners[0]!;
  const stream = new RequestStream(maxRequestLine, maxLine);
  streams.set(socket, stream);
  socket.removeListener('data', feed);
  socket.on('data', (chunk: Buffer) => {
    const out = stream.transform(chunk);
    if (out.length) feed.call(socket, out);
  });
}

/** What recoverParseError did with a parse error. */
export type ParseErrorOutcome =
  /** The refused request and what follows now go through a RequestStream and a new parser. */
  | 'resumed'
  /** Bytes after a request that ends the connection: eventlet never reads them. */
  | 'ignored'
  /** The head overflowed within its request line: eventlet's 414, sent by the caller (see whenIdle). */
  | 'request-line-too-long';

/**
 * Handles Node's parser refusing bytes on a watched connection the way eventlet would take
 * them; undefined leaves the error to the caller (Node's answer). The refused request's bytes
 * are found from the chunk it failed in (and a head's earlier chunks), which must begin at a
 * request: a request whose first bytes came in the same read as the end of an earlier request's
 * body is not recovered.
 */
export function recoverParseError(err: { code?: string; rawPacket?: Buffer; bytesParsed?: number }, socket: Socket, maxRequestLine: number, maxLine: number): ParseErrorOutcome | undefined {
  const watch = watches.get(socket);
  if (!watch) return undefined;
  if (err.code === 'HPE_CLOSED_CONNECTION') {
    stopReading(socket, watch);
    return 'ignored';
  }
  const recoverable = err.code === 'HPE_INVALID_URL' || err.code === 'HPE_INVALID_VERSION';
  if (!recoverable && err.code !== 'HPE_HEADER_OVERFLOW') return undefined;
  const packet = err.rawPacket;
  if (!packet) return undefined;
  const open = watch.openHead;
  if (!(open ? open.fromBoundary : watch.atBoundary)) return undefined;
  const bytes = open?.chunks.length ? Buffer.concat([...open.chunks, packet]) : packet;
  const at = (open?.bytes ?? 0) + Math.min(err.bytesParsed ?? packet.length, packet.length);
  const start = RequestStream.messageStartBefore(bytes, at, maxLine);
  if (start === undefined) return undefined;
  if (!recoverable) {
    const lf = bytes.indexOf(LF, start);
    if (lf >= 0 && lf - start + 1 < maxRequestLine) return undefined;
    stopReading(socket, watch);
    return 'request-line-too-long';
  }
  stopReading(socket, watch);
  whenIdle(socket, () => takeOver(socket, watch, bytes.subarray(start)));
  return 'resumed';
}

/** Node's parser stops reading the socket (bytes wait in it) and its data listener is removed. */
function stopReading(socket: Socket, watch: Watch): void {
  watches.delete(socket);
  byParser.delete(watch.parser);
  if (watch.parser._consumed) {
    watch.parser.unconsume();
    watch.parser._consumed = false;
  }
  for (const [event, listener] of watch.nodeListeners) if (event === 'data') socket.removeListener(event, listener);
  socket.pause();
}

/** No more of the connection is parsed (bytes wait unread): it ends with an answer to what was. */
export function stopParsing(socket: Socket): void {
  const watch = watches.get(socket);
  if (watch) stopReading(socket, watch);
  else socket.pause();
}

/** Runs `then` once no answer to an earlier request is pending on the connection (never if it closes). */
export function whenIdle(socket: Socket, then: () => void): void {
  if (socket.destroyed || !socket.writable) return;
  const pending = (socket as unknown as { _httpMessage?: NodeJS.EventEmitter | null })._httpMessage;
  if (!pending) return then();
  // Node hands the connection to the next pipelined answer in its own 'finish' listener.
  pending.once('finish', () => setImmediate(() => whenIdle(socket, then)));
}

/**
 * Node's server starts the connection over with a new parser fed through a RequestStream:
 * the old parser's listeners go, and the refused request's bytes come first.
 */
function takeOver(socket: Socket, watch: Watch, bytes: Buffer): void {
  for (const [event, listener] of watch.nodeListeners) socket.removeListener(event, listener);
  const parser = watch.parser;
  parser.remove();
  parser.socket = null;
  (socket as unknown as { parser: unknown }).parser = null;
  // Closed once the parser's own callbacks have unwound (Node's freeParser does the same).
  setImmediate(() => parser.close());
  // The keep-alive timer Node may have set belongs to the old parser's state.
  socket.setTimeout(0);
  stepped.add(socket);
  (socket as unknown as { server: Server }).server.emit('connection', socket);
  socket.emit('data', bytes);
  socket.resume();
}
