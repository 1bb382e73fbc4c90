/**
 * sluice's built-in filters, registered under Swift's egg names (`use = egg:swift#<name>`).
 * Importing this module fills the registry the proxy builds its pipeline from; an operator's
 * package adds its own filters with registerFilter (src/proxy/filter.ts) the same way.
 */
import { filterRegistry } from '../proxy/filter';
import { accountQuotasFilter } from './account-quotas';
import { authtokenFilter } from './authtoken/index';
import { bulkFilter } from './bulk';
import { cacheFilter } from './cache';
import { catchErrorsFilter } from './catch-errors';
import { containerQuotasFilter } from './container-quotas';
import { containerSyncFilter } from './container-sync';
import { copyFilter } from './copy';
import { crossdomainFilter } from './crossdomain';
import { etagQuoterFilter } from './etag-quoter';
import { formpostFilter } from './formpost';
import { corsFilter } from './cors';
import { dloFilter } from './dlo';
import { gatekeeperFilter } from './gatekeeper';
import { healthcheckFilter } from './healthcheck';
import { listingFormatsFilter } from './listing-formats';
import { sloFilter } from './slo/index';
import { proxyLoggingFilter } from './proxy-logging';
import { prometheusFilter } from './prometheus';
import { ratelimitFilter } from './ratelimit';
import { staticwebFilter } from './staticweb';
import { symlinkFilter } from './symlink';
import { tempauthFilter } from './tempauth/index';
import { keystoneauthFilter } from './keystoneauth/index';
import { tempurlFilter } from './tempurl';
import { versionedWritesFilter } from './versioned-writes';

// One call each: every definition keeps its own options type, which the registry erases.
filterRegistry.register(catchErrorsFilter);
filterRegistry.register(gatekeeperFilter);
filterRegistry.register(healthcheckFilter);
filterRegistry.register(proxyLoggingFilter);
filterRegistry.register(prometheusFilter);
filterRegistry.register(cacheFilter);
filterRegistry.register(listingFormatsFilter);
filterRegistry.register(tempauthFilter);
filterRegistry.register(authtokenFilter);
filterRegistry.register(keystoneauthFilter);
filterRegistry.register(copyFilter);
filterRegistry.register(versionedWritesFilter);
filterRegistry.register(symlinkFilter);
filterRegistry.register(containerQuotasFilter);
filterRegistry.register(accountQuotasFilter);
filterRegistry.register(corsFilter);
filterRegistry.register(bulkFilter);
filterRegistry.register(tempurlFilter);
filterRegistry.register(etagQuoterFilter);
filterRegistry.register(crossdomainFilter);
filterRegistry.register(ratelimitFilter);
filterRegistry.register(formpostFilter);
filterRegistry.register(staticwebFilter);
filterRegistry.register(containerSyncFilter);
filterRegistry.register(sloFilter);
filterRegistry.register(dloFilter);

export {
  accountQuotasFilter,
  authtokenFilter,
  bulkFilter,
  cacheFilter,
  catchErrorsFilter,
  containerQuotasFilter,
  containerSyncFilter,
  copyFilter,
  corsFilter,
  crossdomainFilter,
  etagQuoterFilter,
  formpostFilter,
  dloFilter,
  gatekeeperFilter,
  healthcheckFilter,
  listingFormatsFilter,
  proxyLoggingFilter,
  prometheusFilter,
  sloFilter,
  ratelimitFilter,
  staticwebFilter,
  symlinkFilter,
  tempauthFilter,
  keystoneauthFilter,
  tempurlFilter,
  versionedWritesFilter,
};
