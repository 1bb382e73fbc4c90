/**
 * `sluice proxy` (the proxy alone, in front of whatever servers the rings name) and
 * `sluice start` (the whole development cluster). Both run the proxy in `workers` processes
 * (node:cluster; Swift's `workers = auto` is one per core) sharing one port, with the
 * shared cache (tokens, account/container info) held by the primary process.
 */
import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadProxyConfig, parseProxyConfig, type ProxyConfig } from '../proxy/config';
import { startProxyServer, type RunningProxy } from '../proxy/server';
import { ClusterCache, serveClusterCache } from '../proxy/cluster-cache';
import { devProxyConfWithUserStore, startDevStorage } from '../cluster/dev-cluster';
import { UserStore } from '../middleware/tempauth/user-store';
import { loadSwiftConf } from '../common/swift-conf';
import { UsageError } from './errors';
import type { CliIo } from './main';

export const PROXY_USAGE = `Usage: sluice proxy [--config proxy-server.conf] [--bind IP] [--port N] [--workers N|auto]

  --config    Swift-style proxy-server.conf ([DEFAULT], [pipeline:main], [app:proxy-server],
              [filter:*]); rings and swift.conf come from its swift_dir (default /etc/swift)
  --bind      address (default: bind_ip from the config, else 127.0.0.1)
  --port      port (default: bind_port from the config, else 8080)
  --workers   proxy processes (default: workers from the config, else auto = one per core;
              0 runs the proxy in this process)`;

export const START_USAGE = `Usage: sluice start [--data-dir DIR] [--port N] [--config proxy-server.conf] [--workers N|auto]

Starts a development cluster: account, container and object servers on 127.0.0.1:6202/6201/6200,
rings and swift.conf under DIR/etc (made on first start), data under DIR/node, and the proxy.

  --data-dir  where everything lives (default ./data)
  --port      proxy port (default 8080)
  --config    proxy-server.conf to use instead of the built-in development configuration
              (which has Swift's development users and the user store DIR/etc/users.db:
              see "sluice help user")
  --workers   proxy processes (default auto = one per core; 0 runs it in this process)
  --storage-ports A,C,O
              account, container and object server ports (default 6202,6201,6200; 0,0,0 picks
              free ones and rewrites the rings)
  --expirer-interval SECONDS
              seconds between the object expirer's passes, which remove objects whose
              X-Delete-At has passed (default 300; 0 turns it off)`;

interface WorkerPlan {
  configPath?: string;
  configText?: string;
  swiftDir?: string;
  host: string;
  port: number;
}

const WORKER_ENV = 'SLUICE_PROXY_WORKER';

function parseWorkers(raw: string | undefined, usage: string): number {
  if (raw === undefined || raw === 'auto') return availableParallelism();
  if (!/^\d+$/.test(raw)) throw new UsageError(`--workers must be a number or auto (got ${JSON.stringify(raw)})`, usage);
  return Number(raw);
}

function parsePort(raw: string | undefined, dflt: number, usage: string): number {
  if (raw === undefined) return dflt;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n > 65535) throw new UsageError(`--port must be 0-65535 (got ${JSON.stringify(raw)})`, usage);
  return n;
}

function configOf(plan: WorkerPlan): ProxyConfig {
  return plan.configPath ? loadProxyConfig(plan.configPath) : parseProxyConfig(plan.configText ?? '', 'development proxy-server.conf');
}

/** Runs in a worker process: one proxy server on the shared port. */
async function runWorker(plan: WorkerPlan): Promise<void> {
  const config = configOf(plan);
  const proxy = await startProxyServer({
    config,
    host: plan.host,
    port: plan.port,
    swiftDir: plan.swiftDir,
    swiftConf: plan.swiftDir ? loadSwiftConf(plan.swiftDir) : undefined,
    cache: new ClusterCache(),
  });
  const stop = () => void proxy.close().finally(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('disconnect', stop);
}

/** Workers with a shared cache, or the proxy in this process for `workers = 0`. */
async function runProxies(plan: WorkerPlan, workers: number, io: CliIo): Promise<{ stop(): Promise<void>; url: string }> {
  if (workers === 0) {
    const config = configOf(plan);
    const proxy: RunningProxy = await startProxyServer({
      config,
      host: plan.host,
      port: plan.port,
      swiftDir: plan.swiftDir,
      swiftConf: plan.swiftDir ? loadSwiftConf(plan.swiftDir) : undefined,
    });
    return { stop: () => proxy.close(), url: proxy.url };
  }
  // Validate the configuration here so a bad file fails once, clearly, not in every worker.
  configOf(plan);
  serveClusterCache();
  let url = `http://${plan.host}:${plan.port}`;
  let stopping = false;
  const forkOne = () => cluster.fork({ [WORKER_ENV]: JSON.stringify(plan) });
  const ready = new Promise<void>((resolveReady, reject) => {
    let listening = 0;
    cluster.on('listening', (_w, address) => {
      // With port 0 the workers share one port the primary picked.
      url = `http://${plan.host.includes(':') ? `[${plan.host}]` : plan.host}:${address.port}`;
      // Replacements must join this port, not pick a new one.
      plan.port = address.port;
      if (++listening === workers) resolveReady();
    });
    cluster.on('exit', (worker, code, signal) => {
      if (stopping) return;
      if (listening < workers) {
        reject(new Error(`proxy worker ${worker.process.pid} exited during start-up (${signal ?? code})`));
        return;
      }
      io.err(`proxy worker ${worker.process.pid} died (${signal ?? code}); starting another`);
      forkOne();
    });
  });
  for (let i = 0; i < workers; i++) forkOne();
  await ready;
  return {
    get url() {
      return url;
    },
    async stop() {
      stopping = true;
      await Promise.all(
        Object.values(cluster.workers ?? {}).map(
          (w) =>
            new Promise<void>((done) => {
              if (!w || w.isDead()) return done();
              w.once('exit', () => done());
              w.kill('SIGTERM');
            }),
        ),
      );
    },
  };
}

function waitForSignal(): Promise<void> {
  return new Promise((done) => {
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
}

export async function runProxy(args: string[], io: CliIo): Promise<number | undefined> {
  if (cluster.isWorker && process.env[WORKER_ENV]) {
    await runWorker(JSON.parse(process.env[WORKER_ENV]) as WorkerPlan);
    return undefined;
  }
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { config: { type: 'string' }, bind: { type: 'string' }, port: { type: 'string' }, workers: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    io.out(PROXY_USAGE);
    return 0;
  }
  if (positionals.length) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`, PROXY_USAGE);
  const configPath = values.config ? resolve(values.config) : undefined;
  const config = loadProxyConfig(configPath);
  const plan: WorkerPlan = {
    configPath,
    configText: configPath ? undefined : '',
    host: values.bind ?? config.defaults.bind_ip ?? '127.0.0.1',
    port: parsePort(values.port ?? config.defaults.bind_port, 8080, PROXY_USAGE),
  };
  const proxies = await runProxies(plan, parseWorkers(values.workers ?? config.defaults.workers, PROXY_USAGE), io);
  io.out(`proxy-server listening on ${proxies.url}`);
  await waitForSignal();
  await proxies.stop();
  return 0;
}

export async function runStart(args: string[], io: CliIo): Promise<number | undefined> {
  if (cluster.isWorker && process.env[WORKER_ENV]) {
    await runWorker(JSON.parse(process.env[WORKER_ENV]) as WorkerPlan);
    return undefined;
  }
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      'data-dir': { type: 'string' },
      port: { type: 'string' },
      config: { type: 'string' },
      workers: { type: 'string' },
      'storage-ports': { type: 'string' },
      'expirer-interval': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.out(START_USAGE);
    return 0;
  }
  if (positionals.length) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`, START_USAGE);
  const dataDir = resolve(values['data-dir'] ?? 'data');
  const port = parsePort(values.port, 8080, START_USAGE);
  const workers = parseWorkers(values.workers, START_USAGE);
  const configPath = values.config ? resolve(values.config) : undefined;
  const ports = (values['storage-ports'] ?? '6202,6201,6200').split(',').map((p) => parsePort(p.trim(), 0, START_USAGE));
  if (ports.length !== 3) throw new UsageError('--storage-ports takes three ports: account,container,object', START_USAGE);
  const rawInterval = values['expirer-interval'];
  if (rawInterval !== undefined && !/^\d+(\.\d+)?$/.test(rawInterval)) {
    throw new UsageError(`--expirer-interval must be a number of seconds (got ${JSON.stringify(rawInterval)})`, START_USAGE);
  }
  const expirerInterval = rawInterval === undefined ? 300 : Number(rawInterval);
  const storage = await startDevStorage({ dataDir, accountPort: ports[0], containerPort: ports[1], objectPort: ports[2], expirerInterval });
  let proxies;
  try {
    let configText: string | undefined;
    if (!configPath) {
      // The built-in configuration keeps TempAuth's user store beside the rings; made here, once,
      // so the workers (which open it read-only) find its table.
      const userStore = join(storage.swiftDir, 'users.db');
      new UserStore(userStore).close();
      configText = devProxyConfWithUserStore(userStore);
    }
    proxies = await runProxies({ configPath, configText, swiftDir: storage.swiftDir, host: '127.0.0.1', port }, workers, io);
  } catch (err) {
    await storage.stop();
    throw err;
  }
  const url = proxies.url;
  io.out(`sluice is running: proxy ${url} (${workers || 1} worker${workers > 1 ? 's' : ''}), data in ${dataDir}`);
  io.out(`storage servers: account ${storage.account.url}, container ${storage.container.url}, object ${storage.object.url}`);
  if (expirerInterval > 0) io.out(`object expirer: a pass every ${expirerInterval}s`);
  io.out('');
  io.out('Try it (development users such as test:tester / testing are for development only):');
  io.out(`  TOKEN=$(curl -si ${url}/auth/v1.0 -H 'X-Auth-User: test:tester' -H 'X-Auth-Key: testing' | awk -F': ' 'tolower($1)=="x-auth-token" {print $2}' | tr -d '\\r')`);
  io.out(`  curl -i -X PUT ${url}/v1/AUTH_test/photos -H "X-Auth-Token: $TOKEN"`);
  io.out(`  curl -i -X PUT ${url}/v1/AUTH_test/photos/hello.txt -H "X-Auth-Token: $TOKEN" --data-binary 'Hello, sluice'`);
  io.out(`  curl -i ${url}/v1/AUTH_test/photos -H "X-Auth-Token: $TOKEN"`);
  io.out(`  curl -i ${url}/v1/AUTH_test/photos/hello.txt -H "X-Auth-Token: $TOKEN"`);
  io.out('Stop with Ctrl-C.');
  await waitForSignal();
  await proxies.stop();
  await storage.stop();
  return 0;
}
