/**
 * Object requests (swift.proxy.controllers.obj, replicated policies). Every verb delays denial:
 * authorize runs again with the container's read ACL (GET/HEAD) or write ACL (PUT/POST/DELETE).
 * Bodies stream end to end: a PUT is teed to every replica with backpressure, a GET streams from
 * the first replica that answers.
 */
import { PassThrough, Readable } from 'node:stream';
import { rawPathOf, rawQueryOf } from '../request-target';
import type { ProxyContext } from '../context';
import { VerbController, requestPairs, type Controller } from './base';
import { forwardedHeaders } from './account';
import { checkMetadata } from '../check';
import { clientHeaders, relayBody, swiftResponse } from '../response';
import { ClientDisconnectedError, ClientTimeoutError, readSmallBody, watchBodyStall } from '../request-body';
import { iterNodes } from '../replicas';
import { BackendError, bestResponse, quorumSize, type BackendResponse, type BackendStreamResponse } from '../../common/backend-client';
import { resumingBody } from '../resuming-body';
import { Timestamp } from '../../common/timestamp';
import { OBJECT_ALLOWED_HEADERS } from '../../common/headers';
import type { Ring, RingDevice } from '../../common/ring';
import type { ContainerInfo } from '../info-cache';
import { expirerContainer, expiringObjectsAccount } from '../../common/expiring-objects';
import { spreadUpdateTargets, type DeleteAtTarget } from '../../common/update-targets';
import { asByteString, checkUtf8 } from '../../compat/bytes';
import { guessType } from '../../compat/mimetypes';
import { unquoteBytes } from '../../compat/quote';
import { configTrue } from '../../compat/truthy';
import { pyRepr } from '../../compat/repr';

export class ObjectController extends VerbController implements Controller {
  /** In the order real Swift 2.30.1 lists them in Allow (its set's iteration order). */
  readonly allowedMethods = ['OPTIONS', 'POST', 'PUT', 'GET', 'DELETE', 'HEAD'] as const;

  /** Every object verb but OPTIONS (the undecorated base handler) delays denial. */
  delaysDenial(method: string): boolean {
    return method !== 'OPTIONS';
  }


  private objectRing(info: ContainerInfo): Ring | undefined {
    return this.state.rings.object.get(info.storagePolicy);
  }

  private get entityPath(): string {
    return `/${this.account}/${this.container}/${this.object}`;
  }

  /** Container info, a 503 when the container servers failed, and the delayed authorization. */
  private async prologue(c: ProxyContext, method: string, acl: 'read' | 'write'): Promise<{ info: ContainerInfo; ring: Ring } | Response> {
    const info = await this.containerInfo(c);
    if (info.status >= 500) return swiftResponse(503, { method });
    const denial = await this.authorizeWithAcl(c, method, acl === 'read' ? info.readAcl : info.writeAcl, info);
    if (denial) return denial;
    const ring = this.objectRing(info);
    if (!ring) return swiftResponse(503, { method, body: 'Unknown Storage Policy' });
    return { info, ring };
  }

  protected async getOrHead(c: ProxyContext, method: string): Promise<Response> {
    const pro = await this.prologue(c, method, 'read');
    if (pro instanceof Response) return pro;
    const { info, ring } = pro;
    const part = ring.getPart(this.account, this.container, this.object);
    const headers = this.backendHeaders(c, {
      ...forwardedHeaders(c),
      'x-backend-storage-policy-index': String(info.storagePolicy),
    });
    const seen: (BackendResponse | BackendError)[] = [];
    // One node iterator for the first answer and for any resumption, so no replica is asked twice.
    const nodes = iterNodes(ring, part);
    const query = rawQueryOf(c) || undefined;
    const ask = async (h: Record<string, string>): Promise<BackendStreamResponse | undefined> => {
      for (let next = nodes.next(); !next.done; next = nodes.next()) {
        try {
          return await this.state.backend.stream(next.value, { method, partition: part, path: this.entityPath, query, headers: h });
        } catch (err) {
          if (!(err instanceof BackendError)) throw err;
          seen.push(err);
        }
      }
      return undefined;
    };
    for (let res = await ask(headers); res; res = await ask(headers)) {
      // Swift's good sources are 2xx, 3xx and 416; anything else (404, 412, 5xx, ...) moves on to
      // the next replica and, if no replica does better, best_response decides.
      const good = (res.status >= 200 && res.status < 400) || res.status === 416;
      if (!good) {
        const chunks: Buffer[] = [];
        try {
          for await (const chunk of res.body) chunks.push(chunk as Buffer);
        } catch (err) {
          // A replica failing while it explains its refusal counts as a failed node.
          seen.push(new BackendError(res.node, 'io', err instanceof Error ? err.message : String(err)));
          continue;
        }
        seen.push({ node: res.node, status: res.status, headers: res.headers, body: Buffer.concat(chunks) });
        continue;
      }
      const out = clientHeaders(res.headers);
      // Swift's proxy unquotes the object server's ETag (update_headers).
      if (out.etag) out.etag = out.etag.replace(/"/g, '');
      // Swift's proxy advertises ranges on every answer from a good source (get_working_response).
      out['accept-ranges'] = 'bytes';
      if (method === 'HEAD' || res.status === 204 || res.status === 304) {
        res.body.resume();
        return new Response(null, { status: res.status, headers: out });
      }
      // A replica failing mid-body hands over to the next one (Swift's GET resumption).
      return relayBody(res.status, out, resumingBody({ first: res, headers, nextSource: ask }), c.env?.outgoing);
    }
    const best = bestResponse(seen, quorumSize(ring.replicaCount));
    // best_response: the backend's headers through update_headers (ETag unquoted, no second Date).
    return this.respond(method, best);
  }

  /**
   * swob's ensure_x_timestamp: a client's X-Timestamp is kept when valid (container sync sends
   * one; the gatekeeper sets it aside for everyone else), 400 when not; otherwise now.
   */
  private requestTimestamp(c: ProxyContext): Timestamp | Response {
    const raw = c.get('headers').get('x-timestamp');
    if (raw === undefined) return Timestamp.now();
    return (
      Timestamp.tryParse(raw) ??
      swiftResponse(400, { body: `X-Timestamp should be a UNIX timestamp float value; was ${pyRepr(raw)}`, contentType: 'text/plain' })
    );
  }

  /** X-Delete-After becomes X-Delete-At; both must be integers in the future (check_delete_headers). */
  private checkDeleteHeaders(c: ProxyContext, now: Timestamp): Response | undefined {
    const headers = c.get('headers');
    const bad = (body: string) => swiftResponse(400, { body, contentType: 'text/plain' });
    const after = headers.get('x-delete-after');
    if (after !== undefined) {
      if (!/^\s*[+-]?\d+\s*$/.test(after)) return bad('Non-integer X-Delete-After');
      const at = Math.floor(now.seconds + Number(after));
      if (at <= now.seconds) return bad('X-Delete-After in past');
      headers.delete('x-delete-after');
      headers.set('x-delete-at', String(at).padStart(10, '0'));
    }
    const at = headers.get('x-delete-at');
    if (at !== undefined) {
      if (!/^\s*[+-]?\d+\s*$/.test(at)) return bad('Non-integer X-Delete-At');
      if (Number(at) <= now.seconds) return bad('X-Delete-At in past');
      headers.set('x-delete-at', String(Math.max(0, Math.min(Number(at), 9_999_999_999))).padStart(10, '0'));
    }
    return undefined;
  }

  /**
   * Backend headers for each replica (Swift's _backend_requests): the container servers to
   * update, and for an object with X-Delete-At the expiring-objects queue servers, spread over
   * the replicas; the first two replicas clean up an old queue row (the others need not).
   */
  private replicaHeaders(
    c: ProxyContext,
    n: number,
    info: ContainerInfo,
    ts: Timestamp,
    extra: Record<string, string>,
    expiring = true,
  ): Record<string, string>[] {
    const containerRing = this.state.rings.container;
    const cpart = containerRing.getPart(this.account, this.container);
    const list = Array.from({ length: n }, () =>
      this.backendHeaders(c, { ...extra, 'x-timestamp': ts.internal, 'x-backend-storage-policy-index': String(info.storagePolicy) }),
    );
    spreadUpdateTargets(list, cpart, containerRing.getPartNodes(cpart), expiring ? this.deleteAtTarget(c) : undefined);
    list.forEach((h, i) => (h['x-backend-clean-expiring-object-queue'] ??= i < 2 ? 't' : 'f'));
    return list;
  }

  /**
   * The queue container for the request's (already checked and normalized) X-Delete-At and the
   * container servers holding it (Swift's _config_obj_expiration).
   */
  private deleteAtTarget(c: ProxyContext): DeleteAtTarget | undefined {
    const raw = c.get('headers').get('x-delete-at');
    if (raw === undefined) return undefined;
    const { expiringObjectsAccountName, expiringObjectsContainerDivisor } = this.state.options;
    const container = expirerContainer(Number(raw), expiringObjectsContainerDivisor, this.state.swiftConf.hash, this.account, this.container!, this.object!);
    const account = expiringObjectsAccount(this.state.constraints.auto_create_account_prefix, expiringObjectsAccountName);
    const { part, nodes } = this.state.rings.container.getNodes(account, container);
    return { container, partition: part, nodes };
  }

  /** Object headers the client may set: user meta, and the allowed plain headers (Swift's allowed_headers). */
  private objectHeaders(c: ProxyContext): Record<string, string> {
    const allowed = new Set([...OBJECT_ALLOWED_HEADERS, 'content-type', 'etag', 'x-detect-content-type']);
    const out: Record<string, string> = {};
    for (const [k, v] of requestPairs(c)) {
      if (allowed.has(k) || k.startsWith('x-object-meta-') || k.startsWith('x-object-sysmeta-') || k.startsWith('x-object-transient-sysmeta-')) out[k] = v;
    }
    return out;
  }

  protected async put(c: ProxyContext): Promise<Response> {
    const method = 'PUT';
    const headers = c.get('headers');
    const ifNoneMatch = headers.get('if-none-match');
    if (ifNoneMatch !== undefined && !ifNoneMatch.split(',').map((s) => s.trim()).includes('*')) {
      return swiftResponse(400, { body: 'If-None-Match only supports *', contentType: 'text/plain' });
    }
    const pro = await this.prologue(c, method, 'write');
    if (pro instanceof Response) return pro;
    const { info, ring } = pro;
    if (!(info.status >= 200 && info.status < 300)) return swiftResponse(404, { method });

    // Content type: guessed from the name when absent or empty, or asked for (X-Detect-Content-Type).
    if (!headers.get('content-type') || configTrue(headers.get('x-detect-content-type'))) {
      // Swift: mimetypes.guess_type(req.path_info), Python's table as Debian builds it.
      const [guessed] = guessType(unquoteBytes(asByteString(rawPathOf(c))));
      headers.set('content-type', guessed ?? 'application/octet-stream');
      headers.delete('x-detect-content-type');
    }
    const ts = this.requestTimestamp(c);
    if (ts instanceof Response) return ts;
    const invalid = this.checkObjectCreation(c, ts);
    if (invalid) return invalid;

    const part = ring.getPart(this.account, this.container, this.object);
    const nodes = ring.getPartNodes(part);
    const extra = this.objectHeaders(c);
    // Without a Content-Length the body goes on chunked; undici chooses that itself.
    const length = headers.get('content-length');
    if (length !== undefined && headers.get('transfer-encoding') === undefined) extra['content-length'] = length;
    if (ifNoneMatch !== undefined) extra['if-none-match'] = ifNoneMatch;
    const perReplica = this.replicaHeaders(c, nodes.length, info, ts, extra);
    return this.storeObject(c, ring, part, perReplica);
  }

  private checkObjectCreation(c: ProxyContext, ts: Timestamp): Response | undefined {
    const headers = c.get('headers');
    const bad = (status: number, body: string) => swiftResponse(status, { body, contentType: 'text/plain' });
    const cl = headers.get('content-length');
    const te = headers.get('transfer-encoding');
    // constraints.check_object_creation over swob's message_length/is_chunked: several codings
    // are 501, one that is not chunked 400; 411 compares the header with 'chunked' as sent.
    if (te) {
      const codings = te.split(',');
      if (codings.length > 1) return bad(501, 'Unsupported Transfer-Coding header value specified in Transfer-Encoding header');
      if (codings[0]!.toLowerCase() !== 'chunked') return bad(400, 'Invalid Transfer-Encoding header value');
    }
    if (cl !== undefined && !te && Number(cl) > this.state.constraints.max_file_size) return bad(413, 'Your request is too large.');
    if (cl === undefined && te !== 'chunked') return bad(411, 'Missing Content-Length header.');
    const nameLen = [...this.object!].length;
    const max = this.state.constraints.max_object_name_length;
    if (nameLen > max) return bad(400, `Object name length of ${nameLen} longer than ${max}`);
    const del = this.checkDeleteHeaders(c, ts);
    if (del) return del;
    if (!checkUtf8(headers.get('content-type')!)) return bad(400, 'Invalid Content-Type');
    return checkMetadata(requestPairs(c), 'object', this.state.constraints);
  }

  /**
   * Streams the client body to every replica at once. Piping one source into several
   * destinations pauses the source while any destination is full, so memory stays bounded.
   */
  private async storeObject(c: ProxyContext, ring: Ring, part: number, perReplica: Record<string, string>[]): Promise<Response> {
    const method = 'PUT';
    const incoming = c.env?.incoming;
    const source: Readable | null = incoming ?? (c.req.raw.body ? Readable.fromWeb(c.req.raw.body as import('node:stream/web').ReadableStream) : null);
    const nodes = ring.getPartNodes(part);
    const more = iterNodes(ring, part);
    for (let i = 0; i < nodes.length; i++) more.next(); // handoffs only, after the primaries
    const clientTimeout = this.state.options.clientTimeout;
    // Why the body stopped short, if it did. Only what the client did counts: a replica failing
    // mid-body also stops the body (nothing is left to feed), and that is a 503, never a 499.
    let clientFault: 'gone' | 'timeout' | undefined;
    // A small body of declared length is read whole first (src/proxy/request-body.ts).
    let whole: Buffer | undefined;
    try {
      whole = incoming ? await readSmallBody(incoming, c.get('headers'), undefined, clientTimeout) : undefined;
    } catch (err) {
      if (err instanceof ClientDisconnectedError) return swiftResponse(499, { method });
      if (err instanceof ClientTimeoutError) return clientTimeoutResponse(method);
      throw err;
    }
    // abortAll destroys the pipes with an error; a pipe whose backend attempt has not started
    // reading it (lazyBody) has no other listener, and the error is already handled here.
    const pipes = whole ? [] : perReplica.map(() => new PassThrough({ highWaterMark: 64 * 1024 }).on('error', () => undefined));
    // A client that goes away or stalls mid-body must abort the backend uploads too: otherwise
    // every replica keeps waiting for the rest of the body (and holds its connection).
    const abortAll = (fault: 'gone' | 'timeout') => {
      if (clientFault) return;
      clientFault = fault;
      if (source) for (const p of pipes) source.unpipe(p);
      for (const p of pipes) p.destroy(fault === 'gone' ? new ClientDisconnectedError() : new ClientTimeoutError(clientTimeout));
    };
    let unwatch = () => undefined as void;
    if (whole) {
      // Already read: nothing left to pipe.
    } else if (source) {
      source.on('aborted', () => abortAll('gone'));
      source.on('error', () => abortAll('gone'));
      source.on('close', () => {
        if (incoming !== undefined && !incoming.complete) abortAll('gone');
      });
      for (const p of pipes) source.pipe(p);
      unwatch = watchBodyStall(source, clientTimeout, () => abortAll('timeout'));
    } else {
      for (const p of pipes) p.end();
    }
    // Stop feeding a replica that answered or failed, so it cannot hold the others back (a 409
    // or 412 comes before the object server reads any of the body).
    const stopFeeding = (i: number) => {
      if (!pipes[i]) return;
      if (source) source.unpipe(pipes[i]);
      pipes[i].resume();
    };
    // Swift's _connect_put_node: a slot whose node cannot take the write goes to the next
    // handoff (shared by all slots). A refused connection never read the body, so any body can
    // follow; after a 507 or 5xx answer only a body held whole can (a streamed one was read).
    const nextHandoff = (): RingDevice | undefined => {
      const n = more.next();
      return n.done ? undefined : n.value;
    };
    const results = await Promise.all(
      nodes.map(async (primary, i) => {
        let node: RingDevice | undefined = primary;
        try {
          for (;;) {
            const body = whole ?? lazyBody(pipes[i]!);
            let result: BackendResponse | BackendError;
            try {
              result = await this.state.backend.send(node, { method, partition: part, path: this.entityPath, headers: perReplica[i]!, body });
            } catch (err) {
              if (!(err instanceof BackendError)) throw err;
              result = err;
            }
            const retry = clientFault === undefined && (result instanceof BackendError ? result.kind === 'connect' : whole !== undefined && result.status >= 500);
            if (retry && (node = nextHandoff()) !== undefined) continue;
            return result;
          }
        } finally {
          stopFeeding(i);
        }
      }),
    );
    unwatch();
    if (clientFault === 'timeout') return clientTimeoutResponse(method);
    const refused = checkFailurePutConnections(results, perReplica[0]?.['if-none-match']);
    if (refused !== undefined) return swiftResponse(refused, { method });
    if (clientFault === 'gone') return swiftResponse(499, { method });
    const best = bestResponse(results, quorumSize(nodes.length));
    // Swift's _store_object sets Last-Modified (the write's timestamp, rounded up) on whatever
    // best_response gives, a 422 or a 503 too; only its early exits (mismatched ETags) have none.
    const lastModified = new Timestamp(Math.ceil(Timestamp.parse(perReplica[0]!['x-timestamp']!).seconds) * 100_000).httpDate;
    if (!best) return unreadBodyCloses(swiftResponse(503, { method, headers: { 'last-modified': lastModified } }), incoming);
    if (best.status === 201) {
      const etags = new Set(results.filter((r): r is BackendResponse => !(r instanceof BackendError) && r.status === 201).map((r) => r.headers.etag));
      if (etags.size > 1) return swiftResponse(500, { method });
    }
    const out: Record<string, string> = { 'last-modified': lastModified };
    if (best.headers.etag) out.etag = best.headers.etag.replace(/"/g, '');
    return swiftResponse(best.status, { headers: out, body: best.body, method });
  }

  protected async post(c: ProxyContext): Promise<Response> {
    const method = 'POST';
    const pro = await this.prologue(c, method, 'write');
    if (pro instanceof Response) return pro;
    const { info, ring } = pro;
    if (!(info.status >= 200 && info.status < 300)) return swiftResponse(404, { method });
    const ts = this.requestTimestamp(c);
    if (ts instanceof Response) return ts;
    const bad = checkMetadata(requestPairs(c), 'object', this.state.constraints) ?? this.checkDeleteHeaders(c, ts);
    if (bad) return bad;
    const part = ring.getPart(this.account, this.container, this.object);
    const nodes = ring.getPartNodes(part);
    const extra = this.objectHeaders(c);
    // POST replaces all user metadata, so removing a key (X-Remove-Object-Meta-*, or an empty
    // value) means not sending it.
    for (const k of Object.keys(extra)) if (k.startsWith('x-object-meta-') && extra[k] === '') delete extra[k];
    const res = await this.fanOut(c, ring, part, 'POST', this.entityPath, this.replicaHeaders(c, nodes.length, info, ts, extra));
    return this.respond(method, res);
  }

  protected async delete(c: ProxyContext): Promise<Response> {
    const method = 'DELETE';
    const pro = await this.prologue(c, method, 'write');
    if (pro instanceof Response) return pro;
    const { info, ring } = pro;
    if (!(info.status >= 200 && info.status < 300)) return swiftResponse(404, { method });
    const part = ring.getPart(this.account, this.container, this.object);
    const nodes = ring.getPartNodes(part);
    // Swift passes the client's headers on; X-If-Delete-At is the one object servers act on
    // (400 when not a timestamp, 412 when it is not the object's X-Delete-At).
    const ifDeleteAt = c.get('headers').get('x-if-delete-at');
    const extra: Record<string, string> = ifDeleteAt === undefined ? {} : { 'x-if-delete-at': ifDeleteAt };
    const ts = this.requestTimestamp(c);
    if (ts instanceof Response) return ts;
    const res = await this.fanOut(c, ring, part, 'DELETE', this.entityPath, this.replicaHeaders(c, nodes.length, info, ts, extra, false));
    return this.respond(method, res);
  }
}

/**
 * A streamed body for one backend attempt, read only once undici sends it: undici destroys a
 * stream body whose request fails, and a node that refuses the connection must leave the
 * replica's pipe whole for the handoff that takes its place.
 */
function lazyBody(pipe: Readable): Readable {
  async function* chunks(): AsyncGenerator<Buffer> {
    for await (const chunk of pipe) yield chunk as Buffer;
  }
  // Readable.from pulls only when read; destroyed unread, it ends the generator before its first step.
  return Readable.from(chunks(), { objectMode: false, highWaterMark: 64 * 1024 });
}

/**
 * Swift 2.30's _check_failure_put_connections: the answers object servers give before taking
 * the body decide a PUT ahead of any quorum or count of working replicas. With If-None-Match: *,
 * one 412 (a replica has the object) is 412. Otherwise one 409 (a replica holds that name at an
 * equal or newer timestamp, its X-Backend-Timestamp, which Swift only logs) is 202 Accepted:
 * "Object PUT returning 202 for 409", the write lost a race to a newer one. No timestamp is
 * compared and no quorum of 409s needed; a lone 409 beside unreachable replicas is 202 too.
 * sluice sends no Expect: 100-continue, but sluice's and Swift's object servers both answer
 * 409 and 412 before reading a PUT's body, so every such answer is one Swift's proxy acts on.
 * Swift's 202 is swob's bare HTTPAccepted: no ETag, no Last-Modified.
 */
function checkFailurePutConnections(results: readonly (BackendResponse | BackendError)[], ifNoneMatch: string | undefined): 202 | 412 | undefined {
  const statuses = results.filter((r): r is BackendResponse => !(r instanceof BackendError)).map((r) => r.status);
  if (ifNoneMatch !== undefined && ifNoneMatch.split(',').some((t) => t.trim() === '*') && statuses.includes(412)) return 412;
  if (statuses.includes(409)) return 202;
  return undefined;
}

/**
 * Swift's HTTPRequestTimeout for a body that stalled (ChunkReadTimeout in _transfer_data). The
 * rest of the body is never read, so the connection cannot carry another request: closed, as
 * eventlet closes it after an error mid-body.
 */
function clientTimeoutResponse(method: string): Response {
  return swiftResponse(408, { method, headers: { connection: 'close' } });
}

/**
 * An answer given before the client's whole body was read (the replicas failed mid-body): the
 * connection is closed after it, as Swift's proxy does, rather than reading and discarding the
 * rest of an upload nothing will store.
 */
function unreadBodyCloses(res: Response, incoming: { complete: boolean } | undefined): Response {
  if (incoming !== undefined && !incoming.complete) res.headers.set('connection', 'close');
  return res;
}

