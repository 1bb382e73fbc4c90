/** Swift's development pipeline with `allow_object_versioning = true` on versioned_writes. */
import { DEV_PROXY_CONF } from '../../../src/cluster/dev-cluster';

export const OV_PROXY_CONF = DEV_PROXY_CONF.replace('allow_versioned_writes = true\n', 'allow_versioned_writes = true\nallow_object_versioning = true\n');
