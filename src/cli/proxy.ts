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
import { ConfigError, loadProxyConfig, type ProxyConfig } from '../proxy/config';
import { devProxyConfWithKeystone, devProxyConfWithPolicy, devProxyConfWithUserStore, keystoneBaseUrl, startDevStorage } from '../cluster/dev-cluster';
import { UserStore } from '../middleware/tempauth/user-store';
// The built-in filters, registered for the pipelines the proxy builds.
import '../middleware/index';
import { UsageError } from './errors';
import { runProxies, runWorker, workerPlan, type RunningProxies } from './proxy-workers';
import { AUTH_OPTIONS, AUTH_USAGE, refusePasswordArgument, startAuth, type StartAuth } from './start-auth';
import type { CliIo } from './main';
import { parseWorkers } from './startup';

export const PROXY_USAGE = `Usage: sluice proxy [--config proxy-server.conf] [--bind IP] [--port N] [--workers N|auto]

  --config    Swift's proxy-server.conf ([DEFAULT], [pipeline:main], [app:proxy-server], one
              section per filter, chosen by its "use = egg:swift#<name>"), or a
              proxy-server.conf.d directory of *.conf files; rings and swift.conf come from its
              swift_dir (default /etc/swift)
  --bind      address (default: bind_ip from the config, else 127.0.0.1)
  --port      port (default: bind_port from the config, else 8080)
  --workers   proxy processes (default: workers from the config, else auto = one per core;
              0 runs the proxy in this process)

SIGTERM or SIGINT stops taking connections and lets requests in flight finish, for up to
graceful_shutdown_timeout seconds ([DEFAULT], default 60); a second one stops at once. SIGHUP
reads the configuration again and replaces the workers without refusing a connection (a
configuration that cannot start is reported and the running workers keep serving).`;

export const START_USAGE = `Usage: sluice start [--data-dir DIR] [--port N] [--config proxy-server.conf] [--workers N|auto]
                    [--policy FILE] [--auth keystone --keystone-url URL [--keystone-user NAME] ...]

Starts a development cluster: account, container and object servers on 127.0.0.1:6202/6201/6200,
rings and swift.conf under DIR/etc (made on first start), data under DIR/node, and the proxy.

  --data-dir  where everything lives (default ./data)
  --port      proxy port (default 8080)
  --config    proxy-server.conf to use instead of the built-in development configuration
              (which has Swift's development users and the user store DIR/etc/users.db:
              see "sluice help user")
  --workers   proxy processes (default auto = one per core; 0 runs it in this process)
  --policy    a policy file (YAML or JSON) over the default authorization rules, read again
              when it changes (policy_file in the auth filter's section; with --config, set it
              there); "sluice help policy" shows the rules
  --storage-ports A,C,O
              account, container and object server ports (default 6202,6201,6200; 0,0,0 picks
              free ones and rewrites the rings)
  --expirer-interval SECONDS
              seconds between the object expirer's passes, which remove objects whose
              X-Delete-At has passed (default 300; 0 turns it off)
${AUTH_USAGE}

With Keystone (e.g. scripts/keystone-dev.sh start, then eval "$(scripts/keystone-dev.sh env)"):
  SLUICE_KEYSTONE_PASSWORD=... sluice start --auth keystone --keystone-url "$KEYSTONE_URL"
A project's account is AUTH_<project id>; its users with the admin or swiftoperator role own it.

SIGTERM or SIGINT (Ctrl-C) lets the proxy's requests in flight finish (for up to
graceful_shutdown_timeout seconds, default 60; a second one stops at once), then stops the
storage servers. SIGHUP reads the proxy's configuration again and replaces its workers.`;

function parsePort(raw: string | undefined, dflt: number, usage: string): number {
  if (raw === undefined) return dflt;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n > 65535) throw new UsageError(`--port must be 0-65535 (got ${JSON.stringify(raw)})`, usage);
  return n;
}

/** bind_port and workers from the file: a bad value there is the file's error, not bad usage. */
function configPort(config: ProxyConfig): number {
  const raw = config.app.bind_port;
  if (raw === undefined) return 8080;
  const n = Number(raw.trim());
  if (!/^\d+$/.test(raw.trim()) || n > 65535) throw new ConfigError(`${config.source}: bind_port must be 0-65535 (got ${JSON.stringify(raw)})`);
  return n;
}

function configWorkers(config: ProxyConfig): number {
  const raw = config.app.workers?.trim();
  if (raw === undefined || raw === 'auto') return availableParallelism();
  if (!/^\d+$/.test(raw)) throw new ConfigError(`${config.source}: workers must be a number or auto (got ${JSON.stringify(raw)})`);
  return Number(raw);
}

/**
 * Serves until SIGINT/SIGTERM (resolves undefined) or until a proxy worker started to replace
 * one that died cannot start (resolves its cause; the workers are stopped by then). SIGHUP
 * reloads the configuration (new workers, then the old ones drain). After the first SIGINT or
 * SIGTERM the caller drains; a second one ends everything at once.
 */
function serveUntilStopped(proxies: RunningProxies, io: CliIo): Promise<Error | undefined> {
  process.on('SIGHUP', () => void proxies.reload());
  return Promise.race([
    new Promise<undefined>((done) => {
      let signalled = false;
      const onSignal = (signal: NodeJS.Signals) => {
        if (signalled) {
          io.err(`sluice: ${signal} again: closing every connection now`);
          for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGKILL');
          process.exit(1);
        }
        signalled = true;
        io.err(`sluice: ${signal}: no new connections; letting requests in flight finish (at most ${proxies.graceMs / 1000}s)`);
        done(undefined);
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
    }),
    proxies.failed,
  ]);
}

/** In a process node:cluster forked as a proxy worker, serves as one and answers true. */
async function servedAsWorker(): Promise<boolean> {
  const forked = workerPlan();
  if (!forked) return false;
  await runWorker(forked);
  return true;
}

export async function runProxy(args: string[], io: CliIo): Promise<number | undefined> {
  if (await servedAsWorker()) return undefined;
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
  const plan = {
    configPath,
    configText: configPath ? undefined : '',
    host: values.bind ?? config.app.bind_ip ?? '127.0.0.1',
    port: values.port === undefined ? configPort(config) : parsePort(values.port, 8080, PROXY_USAGE),
  };
  const workers = values.workers === undefined ? configWorkers(config) : parseWorkers(values.workers, PROXY_USAGE);
  const proxies = await runProxies(plan, workers, io);
  io.out(`proxy-server listening on ${proxies.url}`);
  const failure = await serveUntilStopped(proxies, io);
  await proxies.stop();
  if (failure) throw failure;
  return 0;
}

export async function runStart(args: string[], io: CliIo): Promise<number | undefined> {
  if (await servedAsWorker()) return undefined;
  refusePasswordArgument(args);
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
      policy: { type: 'string' },
      ...AUTH_OPTIONS,
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
  const auth = startAuth(values, process.env, { warn: io.err });
  const policyFile = values.policy === undefined ? undefined : resolve(values.policy);
  if (policyFile !== undefined && configPath) throw new Error('--policy sets policy_file in the built-in configuration; with --config, set policy_file in its tempauth or keystoneauth section');
  // A file that cannot be read or parsed fails before anything starts; the rest of the
  // configuration (filters' options, which need the rings) is checked once the rings exist.
  if (configPath) loadProxyConfig(configPath);
  const storage = await startDevStorage({ dataDir, accountPort: ports[0], containerPort: ports[1], objectPort: ports[2], expirerInterval });
  let proxies: RunningProxies;
  try {
    let configText: string | undefined;
    if (auth.kind === 'keystone') {
      configText = devProxyConfWithKeystone(auth.keystone);
    } else if (!configPath) {
      // The built-in configuration keeps TempAuth's user store beside the rings; made here, once,
      // so the workers (which open it read-only) find its table.
      const userStore = join(storage.swiftDir, 'users.db');
      new UserStore(userStore).close();
      configText = devProxyConfWithUserStore(userStore);
    }
    if (policyFile !== undefined && configText !== undefined) configText = devProxyConfWithPolicy(configText, policyFile);
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
  if (auth.kind === 'keystone') printKeystoneTry(auth, url, io);
  else printTempauthTry(url, io);
  io.out('Stop with Ctrl-C.');
  const failure = await serveUntilStopped(proxies, io);
  await proxies.stop();
  await storage.stop();
  if (failure) throw failure;
  return 0;
}

function printKeystoneTry(auth: Extract<StartAuth, { kind: 'keystone' }>, url: string, io: CliIo): void {
  const base = keystoneBaseUrl(auth.keystone.url);
  io.out(`Keystone: ${base} (authtoken validates tokens as ${auth.keystone.username}, project ${auth.keystone.projectName}, domain ${auth.keystone.domainId})`);
  io.out('Try it as a user with the swiftoperator role on a project (the password from the environment, not argv):');
  io.out(`  export OS_AUTH_URL=${base}/v3 OS_IDENTITY_API_VERSION=3 OS_USER_DOMAIN_ID=default OS_PROJECT_DOMAIN_ID=default`);
  io.out('  export OS_USERNAME=<user> OS_PROJECT_NAME=<project>; read -rs OS_PASSWORD; export OS_PASSWORD');
  io.out(`  TOKEN=$(openstack token issue -f value -c id); PROJECT=$(openstack token issue -f value -c project_id)`);
  io.out(`  curl -i -X PUT ${url}/v1/AUTH_$PROJECT/photos -H "X-Auth-Token: $TOKEN"`);
  io.out(`  curl -i ${url}/v1/AUTH_$PROJECT/photos -H "X-Auth-Token: $TOKEN"`);
  io.out(`  swift --os-storage-url ${url}/v1/AUTH_$PROJECT list   # or the catalog's object-store URL`);
}

function printTempauthTry(url: string, io: CliIo): void {
  io.out('Try it (development users such as test:tester / testing are for development only):');
  io.out(`  TOKEN=$(curl -si ${url}/auth/v1.0 -H 'X-Auth-User: test:tester' -H 'X-Auth-Key: testing' | awk -F': ' 'tolower($1)=="x-auth-token" {print $2}' | tr -d '\\r')`);
  io.out(`  curl -i -X PUT ${url}/v1/AUTH_test/photos -H "X-Auth-Token: $TOKEN"`);
  io.out(`  curl -i -X PUT ${url}/v1/AUTH_test/photos/hello.txt -H "X-Auth-Token: $TOKEN" --data-binary 'Hello, sluice'`);
  io.out(`  curl -i ${url}/v1/AUTH_test/photos -H "X-Auth-Token: $TOKEN"`);
  io.out(`  curl -i ${url}/v1/AUTH_test/photos/hello.txt -H "X-Auth-Token: $TOKEN"`);
}
