/**
 * The PasteDeploy entry points Swift 2.30 declares (setup.cfg `[entry_points]`, as installed in
 * swift-2.30.1.egg-info/entry_points.txt): what `use = egg:swift#<name>` can name, and the module
 * each comes from, so `paste.filter_factory = <module>:filter_factory` finds the same name.
 */

/** `paste.app_factory` entry points: egg name → module. */
export const SWIFT_APPS: Readonly<Record<string, string>> = {
  account: 'swift.account.server',
  container: 'swift.container.server',
  mem_object: 'swift.obj.mem_server',
  object: 'swift.obj.server',
  proxy: 'swift.proxy.server',
};

/** `paste.filter_factory` entry points: egg name → module. */
export const SWIFT_FILTERS: Readonly<Record<string, string>> = {
  account_quotas: 'swift.common.middleware.account_quotas',
  bulk: 'swift.common.middleware.bulk',
  catch_errors: 'swift.common.middleware.catch_errors',
  cname_lookup: 'swift.common.middleware.cname_lookup',
  container_quotas: 'swift.common.middleware.container_quotas',
  container_sync: 'swift.common.middleware.container_sync',
  copy: 'swift.common.middleware.copy',
  crossdomain: 'swift.common.middleware.crossdomain',
  dlo: 'swift.common.middleware.dlo',
  domain_remap: 'swift.common.middleware.domain_remap',
  encryption: 'swift.common.middleware.crypto',
  etag_quoter: 'swift.common.middleware.etag_quoter',
  formpost: 'swift.common.middleware.formpost',
  gatekeeper: 'swift.common.middleware.gatekeeper',
  healthcheck: 'swift.common.middleware.healthcheck',
  keymaster: 'swift.common.middleware.crypto.keymaster',
  keystoneauth: 'swift.common.middleware.keystoneauth',
  kmip_keymaster: 'swift.common.middleware.crypto.kmip_keymaster',
  kms_keymaster: 'swift.common.middleware.crypto.kms_keymaster',
  list_endpoints: 'swift.common.middleware.list_endpoints',
  listing_formats: 'swift.common.middleware.listing_formats',
  memcache: 'swift.common.middleware.memcache',
  name_check: 'swift.common.middleware.name_check',
  proxy_logging: 'swift.common.middleware.proxy_logging',
  ratelimit: 'swift.common.middleware.ratelimit',
  read_only: 'swift.common.middleware.read_only',
  recon: 'swift.common.middleware.recon',
  s3api: 'swift.common.middleware.s3api.s3api',
  s3token: 'swift.common.middleware.s3api.s3token',
  slo: 'swift.common.middleware.slo',
  staticweb: 'swift.common.middleware.staticweb',
  symlink: 'swift.common.middleware.symlink',
  tempauth: 'swift.common.middleware.tempauth',
  tempurl: 'swift.common.middleware.tempurl',
  versioned_writes: 'swift.common.middleware.versioned_writes',
  xprofile: 'swift.common.middleware.xprofile',
};

/**
 * Factories outside Swift that Swift's documentation configures by module
 * (`paste.filter_factory = keystonemiddleware.auth_token:filter_factory`), with the name
 * sluice knows them by.
 */
export const OTHER_FILTER_FACTORIES: Readonly<Record<string, string>> = {
  'keystonemiddleware.auth_token:filter_factory': 'authtoken',
};

/**
 * Entry points of other distributions that `use = egg:<dist>#<name>` may name
 * (keystonemiddleware's setup.cfg: `auth_token = keystonemiddleware.auth_token:filter_factory`),
 * with the name sluice knows them by.
 */
export const OTHER_EGG_FILTERS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  keystonemiddleware: { auth_token: 'authtoken' },
};
