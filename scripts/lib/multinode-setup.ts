/**
 * The TypeScript side of `scripts/multinode.sh up`: compiles the command line into BUNDLE_DIR
 * (main.mjs, with `npm run build`'s esbuild settings, plus run.mjs, which runs it as
 * bin/sluice.js runs the bundle; every proxy and storage server starts from it instead of
 * through tsx), and writes each proxy's proxy-server.conf (TempAuth, the cache filter naming the
 * shared memcached) into WORK/proxy-<name>/etc. BUNDLE_DIR must be under the repository, so
 * node_modules resolves.
 *
 *   npx tsx scripts/lib/multinode-setup.ts BUNDLE_DIR WORK MEMCACHED_PORT NAME=IP:PORT...
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { proxyConf } from '../../test/helpers/proxy-conf';
import { buildBundle } from '../build';

const [bundleDir, work, memcachedPort, ...proxies] = process.argv.slice(2);
if (!bundleDir || !work || !memcachedPort || proxies.length === 0) {
  console.error('usage: multinode-setup.ts BUNDLE_DIR WORK MEMCACHED_PORT NAME=IP:PORT...');
  process.exit(2);
}

for (const spec of proxies) {
  const m = /^(\w+)=([\d.]+):(\d+)$/.exec(spec);
  if (!m) throw new Error(`bad proxy ${JSON.stringify(spec)} (NAME=IP:PORT)`);
  const [, name, ip, port] = m;
  const etc = join(work, `proxy-${name}`, 'etc');
  const conf = proxyConf({
    defaults: `bind_ip = ${ip}\nbind_port = ${port}\nworkers = 2\nswift_dir = ${etc}`,
    pipeline: ['catch_errors', 'gatekeeper', 'healthcheck', 'proxy-logging', 'cache', 'listing_formats', 'tempauth', 'proxy-logging'],
    // A dead node refuses at once on loopback; short timeouts keep a stopped node from slowing the tests.
    app: 'node_timeout = 5\nconn_timeout = 1',
    sections: {
      cache: `memcache_servers = 127.0.0.1:${memcachedPort}`,
      tempauth: 'user_test_tester = testing .admin\nuser_test_tester3 = testing3',
    },
  });
  writeFileSync(join(etc, 'proxy-server.conf'), conf);
}

await buildBundle('src/cli/main.ts', join(resolve(bundleDir), 'main.mjs'));
writeFileSync(
  join(bundleDir, 'run.mjs'),
  "process.setSourceMapsEnabled(true);\nconst code = await (await import('./main.mjs')).run(process.argv.slice(2));\nif (code !== undefined) process.exitCode = code;\n",
);
