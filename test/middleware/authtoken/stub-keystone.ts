/**
 * A small Keystone v3 stand-in for what a real one cannot do on demand: fail (500, 403, 401,
 * hang, drop connections), issue service tokens that expire when a test says, and count every
 * request. It knows one service user (by name in domain `default`, password `svc-pass`) and the
 * user tokens a test adds.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';

export const STUB_SERVICE = { username: 'svc', password: 'svc-pass', project: 'service' };

export interface StubRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  /** Over TLS: the CN of the client certificate presented, if any. */
  clientCert?: string;
}

/** A test's override for one validation: a status to answer, 'hang' or 'drop'; undefined = normal. */
export type Override = number | 'hang' | 'drop' | undefined;

export interface StubToken {
  userId?: string;
  userName?: string;
  projectId?: string;
  projectName?: string;
  roles?: string[];
  /** seconds from now (negative: already expired) */
  expiresIn?: number;
  isAdminProject?: boolean;
  extra?: Record<string, unknown>;
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export function tokenBody(t: StubToken, now = Date.now()): Record<string, unknown> {
  return {
    methods: ['password'],
    user: { domain: { id: 'default', name: 'Default' }, id: t.userId ?? 'u1', name: t.userName ?? 'alice', password_expires_at: null },
    audit_ids: ['a'],
    expires_at: iso(now + (t.expiresIn ?? 3600) * 1000),
    issued_at: iso(now),
    project: { domain: { id: 'default', name: 'Default' }, id: t.projectId ?? 'p1', name: t.projectName ?? 'proj' },
    is_domain: false,
    roles: (t.roles ?? ['member']).map((name, i) => ({ id: `r${i}`, name })),
    ...(t.isAdminProject === undefined ? {} : { is_admin_project: t.isAdminProject }),
    catalog: [
      {
        endpoints: [
          { id: 'e1', interface: 'public', region_id: 'RegionOne', url: 'http://127.0.0.1:8080/v1/AUTH_p1', region: 'RegionOne' },
          { id: 'e2', interface: 'internal', region_id: 'RegionOne', url: 'http://10.0.0.1:8080/v1/AUTH_p1', region: 'RegionOne' },
        ],
        id: 's1',
        type: 'object-store',
        name: 'swift',
      },
    ],
    ...t.extra,
  };
}

export class StubKeystone {
  readonly requests: StubRequest[] = [];
  /** User tokens Keystone would accept: token → its description. */
  readonly tokens = new Map<string, StubToken>();
  /** Seconds the next service tokens live. */
  serviceTokenLife = 3600;
  /** Answers POST /v3/auth/tokens with this status when set. */
  authStatus: number | undefined;
  /** Consulted for each GET /v3/auth/tokens, with its 0-based index. */
  validateOverride: (index: number, req: StubRequest) => Override = () => undefined;
  /** Service tokens issued and still honoured. */
  private readonly serviceTokens = new Set<string>();
  private issued = 0;
  private validations = 0;
  private readonly hanging = new Set<ServerResponse>();
  private server!: Server;
  url = '';

  /** Listens on an ephemeral loopback port; over HTTPS with `tls` (asking for a client certificate). */
  async start(tls?: { key: Buffer; cert: Buffer }): Promise<this> {
    const handler = (req: IncomingMessage, res: ServerResponse) => this.handle(req, res);
    this.server = tls ? createTlsServer({ ...tls, requestCert: true, rejectUnauthorized: false }, handler) : createServer(handler);
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `${tls ? 'https' : 'http'}://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  count(method: 'GET' | 'POST'): number {
    return this.requests.filter((r) => r.method === method && r.url.startsWith('/v3/auth/tokens')).length;
  }

  reset(): void {
    this.requests.length = 0;
  }

  /** Makes Keystone forget every service token it issued (as a restart with new keys would). */
  revokeServiceTokens(): void {
    this.serviceTokens.clear();
  }

  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const peer = 'getPeerCertificate' in req.socket ? (req.socket as TLSSocket).getPeerCertificate() : undefined;
      const record: StubRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, clientCert: peer?.subject?.CN === undefined ? undefined : String(peer.subject.CN) };
      this.requests.push(record);
      const path = record.url.split('?')[0];
      if (path !== '/v3/auth/tokens') return this.send(res, 404, { error: { code: 404 } });
      if (req.method === 'POST') return this.authenticate(res, Buffer.concat(chunks).toString('utf8'));
      if (req.method === 'GET') return this.validate(req, res, record);
      return this.send(res, 405, {});
    });
  }

  private authenticate(res: ServerResponse, text: string): void {
    if (this.authStatus !== undefined) return this.send(res, this.authStatus, { error: { code: this.authStatus } });
    const body = JSON.parse(text) as { auth: { identity: { password?: { user: { name?: string; password?: string } } } } };
    const user = body.auth.identity.password?.user;
    if (user?.name !== STUB_SERVICE.username || user.password !== STUB_SERVICE.password) return this.send(res, 401, { error: { code: 401 } });
    const token = `svc-token-${++this.issued}`;
    this.serviceTokens.add(token);
    const now = Date.now();
    res.setHeader('x-subject-token', token);
    this.send(res, 201, { token: tokenBody({ userId: 'svc-id', userName: 'svc', roles: ['service', 'admin'], expiresIn: this.serviceTokenLife, extra: { catalog: undefined } }, now) });
  }

  private validate(req: IncomingMessage, res: ServerResponse, record: StubRequest): void {
    const override = this.validateOverride(this.validations++, record);
    if (override === 'hang') {
      this.hanging.add(res);
      return;
    }
    if (override === 'drop') {
      req.socket.destroy();
      return;
    }
    if (override !== undefined) return this.send(res, override, { error: { code: override } });
    if (!this.serviceTokens.has(String(req.headers['x-auth-token']))) return this.send(res, 401, { error: { code: 401 } });
    const subject = String(req.headers['x-subject-token']);
    const t = this.tokens.get(subject);
    if (!t) return this.send(res, 404, { error: { code: 404, message: 'Could not find token' } });
    const allowExpired = /[?&]allow_expired=1/.test(record.url);
    if ((t.expiresIn ?? 3600) < 0 && !allowExpired) return this.send(res, 404, { error: { code: 404 } });
    const token = tokenBody(t);
    if (/[?&]nocatalog/.test(record.url)) delete token.catalog;
    this.send(res, 200, { token });
  }

  private send(res: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }
}
