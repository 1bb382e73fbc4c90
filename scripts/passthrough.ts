/**
 * The bench's baseline: the least a proxy in front of Swift storage servers can do. Each client
 * request goes to the first primary node the ring names for its path (`/v1/<a>[/<c>[/<o>]]` ->
 * `/<device>/<partition>/<a>[/<c>[/<o>]]`), streamed both ways over keep-alive undici pools.
 * No auth, no validation, no logging, no quorum, no container-update headers; it adds only the
 * X-Timestamp the storage servers require on writes. `/auth/...` answers at once with a fixed
 * token (there is no storage server to forward it to), which measures a bare HTTP round trip.
 *
 *   node --import tsx scripts/passthrough.ts --swift-dir DIR [--bind 127.0.0.1] [--port 0] [--workers N|auto]
 *
 * Runs in N node:cluster workers sharing one port, like `sluice proxy`, and prints
 * `passthrough listening on URL` once all of them listen.
 */
import cluster from 'node:cluster';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { availableParallelism } from 'node:os';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { Ring } from '../src/common/ring';
import { loadSwiftConf } from '../src/common/swift-conf';
import { Timestamp } from '../src/common/timestamp';

interface Plan {
  swiftDir: string;
  host: string;
  port: number;
}

const WORKER_ENV = 'SLUICE_PASSTHROUGH_WORKER';

// Hop-by-hop headers (RFC 9110 §7.6.1) are the connection's, not the message's.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'host']);

function serveWorker(plan: Plan): void {
  const conf = loadSwiftConf(plan.swiftDir);
  const rings = {
    account: Ring.forKind(plan.swiftDir, 'account', conf.hash),
    container: Ring.forKind(plan.swiftDir, 'container', conf.hash),
    object: Ring.forKind(plan.swiftDir, 'object', conf.hash),
  };
  const pools = new Map<string, Pool>();
  const poolFor = (ip: string, port: number): Pool => {
    const origin = `http://${ip.includes(':') ? `[${ip}]` : ip}:${port}`;
    let pool = pools.get(origin);
    if (!pool) {
      pool = new Pool(origin, { connections: 128, keepAliveTimeout: 30_000 });
      pools.set(origin, pool);
    }
    return pool;
  };

  const fail = (res: ServerResponse, status: number, text: string) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.writeHead(status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const target = req.url ?? '/';
    const q = target.indexOf('?');
    const rawPath = q === -1 ? target : target.slice(0, q);
    const query = q === -1 ? '' : target.slice(q);
    if (rawPath.startsWith('/auth/')) {
      req.resume();
      const account = `AUTH_${String(req.headers['x-auth-user'] ?? 'test').split(':')[0]}`;
      res.writeHead(200, {
        'x-auth-token': 'AUTH_tkpassthrough',
        'x-storage-token': 'AUTH_tkpassthrough',
        'x-storage-url': `http://${req.headers.host ?? `${plan.host}:${plan.port}`}/v1/${account}`,
        'content-length': '0',
      });
      res.end();
      return;
    }
    const parts = rawPath.split('/');
    // ['', 'v1', account, container?, ...object]
    if (parts[1] !== 'v1' || !parts[2]) {
      req.resume();
      fail(res, 404, 'Not Found');
      return;
    }
    const account = decodeURIComponent(parts[2]);
    const container = parts[3] ? decodeURIComponent(parts[3]) : undefined;
    const object = parts.length > 4 ? decodeURIComponent(parts.slice(4).join('/')) : undefined;
    const ring = object !== undefined ? rings.object : container !== undefined ? rings.container : rings.account;
    const { part, nodes } = ring.getNodes(account, container, object);
    const node = nodes[0];
    if (!node) {
      req.resume();
      fail(res, 503, 'No nodes');
      return;
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (v === undefined || HOP_BY_HOP.has(k)) continue;
      headers[k] = Array.isArray(v) ? v.join(', ') : v;
    }
    headers['x-timestamp'] ??= Timestamp.now().internal;
    const method = req.method ?? 'GET';
    const hasBody = req.headers['content-length'] !== undefined ? req.headers['content-length'] !== '0' : req.headers['transfer-encoding'] !== undefined;
    const backend = await poolFor(node.ip, node.port).request({
      method,
      path: `/${encodeURIComponent(node.device)}/${part}/${parts.slice(2).join('/')}${query}`,
      headers,
      body: hasBody ? req : null,
      // Keep the connection after a HEAD too (undici closes it by default, nodejs/undici#258).
      reset: false,
    });
    const out: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(backend.headers)) {
      if (v === undefined || HOP_BY_HOP.has(k)) continue;
      out[k] = v;
    }
    // The storage server's Date stands (as Swift's proxy passes it on); Node would add a second.
    res.sendDate = false;
    res.writeHead(backend.statusCode, out);
    await pipeline(backend.body, res);
  };

  const server = createServer({ keepAliveTimeout: 30_000, requestTimeout: 0 }, (req, res) => {
    handle(req, res).catch((err: Error) => fail(res, 502, `passthrough: ${err.message}`));
  });
  server.listen(plan.port, plan.host);
  const stop = () => {
    server.close();
    server.closeAllConnections();
    void Promise.all([...pools.values()].map((p) => p.close())).finally(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('disconnect', stop);
}

function runPrimary(plan: Plan, workers: number): void {
  let listening = 0;
  let stopping = false;
  cluster.on('listening', (_w, address) => {
    if (++listening === workers) process.stdout.write(`passthrough listening on http://${plan.host}:${address.port}\n`);
  });
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    process.stderr.write(`passthrough worker ${worker.process.pid} exited (${signal ?? code})\n`);
    process.exitCode = 1;
    shutdown();
  });
  const shutdown = () => {
    stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.kill('SIGTERM');
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
  for (let i = 0; i < workers; i++) cluster.fork({ [WORKER_ENV]: JSON.stringify(plan) });
}

function main(): void {
  if (cluster.isWorker && process.env[WORKER_ENV]) {
    serveWorker(JSON.parse(process.env[WORKER_ENV]) as Plan);
    return;
  }
  const { values } = parseArgs({
    options: {
      'swift-dir': { type: 'string' },
      bind: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '0' },
      workers: { type: 'string', default: 'auto' },
    },
  });
  const swiftDir = values['swift-dir'];
  if (!swiftDir) {
    process.stderr.write('usage: passthrough.ts --swift-dir DIR [--bind IP] [--port N] [--workers N|auto]\n');
    process.exit(2);
  }
  const workers = values.workers === 'auto' ? availableParallelism() : Number(values.workers);
  if (!Number.isInteger(workers) || workers < 1) {
    process.stderr.write(`--workers must be a positive number or auto (got ${values.workers})\n`);
    process.exit(2);
  }
  runPrimary({ swiftDir, host: values.bind, port: Number(values.port) }, workers);
}

main();
