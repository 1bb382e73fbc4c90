/**
 * The configuration both clusters of the differential harness share: Swift's SAIO proxy
 * pipeline, the TempAuth users, ratelimit set low on one account, and container sync's realm.
 * The same proxy-server.conf text runs Debian's swift-proxy-server and sluice's proxy.
 */

import { userInfo } from 'node:os';

/** Swift's development (SAIO) pipeline, plus formpost after tempurl as Swift's sample config has it. */
export const SAIO_PIPELINE =
  'catch_errors gatekeeper healthcheck proxy-logging cache etag-quoter listing_formats bulk tempurl formpost ratelimit crossdomain container_sync tempauth staticweb copy container-quotas account-quotas slo dlo versioned_writes symlink proxy-logging proxy-server';

/** TempAuth users on both sides: `account:user` → key. */
export const USERS: Record<string, string> = {
  'test:tester': 'testing',
  'test:tester3': 'testing3',
  'test2:tester2': 'testing2',
  'admin:admin': 'admin',
  'rl:tester': 'testing',
  'blk:tester': 'testing',
  // An account no other case writes to, for the cases that list or count one: the object
  // counts of an account trail its containers' by the container updater's interval.
  'lst:tester': 'testing',
};

/** The realm of container-sync-realms.conf (both sides), and its cluster name. */
export const SYNC_REALM = { realm: 'REALM1', cluster: 'CLUSTER1', key: 'realm1key' };

/** Section names whose egg is not the name with `-` → `_`. */
const EGGS: Record<string, string> = { cache: 'memcache', 'proxy-logging': 'proxy_logging' };

/** Lines of a filter section beyond its `use =` (ratelimit is configured low on one account). */
function filterLines(name: string, memcachePort: number): string {
  switch (name) {
    case 'cache':
      return `memcache_servers = 127.0.0.1:${memcachePort}`;
    case 'tempauth':
      return 'user_test_tester = testing .admin\nuser_test_tester3 = testing3\nuser_test2_tester2 = testing2 .admin\nuser_admin_admin = admin .admin .reseller_admin\nuser_rl_tester = testing .admin\nuser_blk_tester = testing .admin\nuser_lst_tester = testing .admin';
    case 'ratelimit':
      // Every account but AUTH_rl is exempt; AUTH_rl may PUT or DELETE one container every 20 s
      // and waits at most 0.5 s, so a second PUT within ~19 s of the first is 498 however busy
      // the machine. AUTH_blk is 497.
      return 'account_ratelimit = 0.05\nmax_sleep_time_seconds = 0.5\naccount_whitelist = AUTH_test,AUTH_test2,AUTH_admin,AUTH_lst\naccount_blacklist = AUTH_blk';
    case 'versioned_writes':
      return 'allow_versioned_writes = true';
    default:
      return '';
  }
}

export function proxyServerConf(opts: { port: number; memcachePort: number; swiftDir: string }): string {
  const filters = [...new Set(SAIO_PIPELINE.split(' ').filter((n) => n !== 'proxy-server'))];
  const out = [
    `[DEFAULT]\nbind_ip = 127.0.0.1\nbind_port = ${opts.port}\nworkers = 0\nuser = ${userInfo().username}\nswift_dir = ${opts.swiftDir}\nlog_level = WARNING\n`,
    `[pipeline:main]\npipeline = ${SAIO_PIPELINE}\n`,
    '[app:proxy-server]\nuse = egg:swift#proxy\naccount_autocreate = true\nallow_account_management = true\nnode_timeout = 10\nconn_timeout = 2\n',
  ];
  for (const name of filters) out.push(`[filter:${name}]\nuse = egg:swift#${EGGS[name] ?? name.replace(/-/g, '_')}\n${filterLines(name, opts.memcachePort)}\n`);
  return out.join('\n');
}

export function realmsConf(): string {
  return `[${SYNC_REALM.realm}]\nkey = ${SYNC_REALM.key}\ncluster_${SYNC_REALM.cluster} = http://127.0.0.1:1/v1/\n`;
}
