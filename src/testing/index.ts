/**
 * Test harness for users of sluice (`import { startCluster } from 'sluice/testing'`): a complete
 * cluster on ephemeral ports in a temp directory, torn down by stop().
 */
export { startCluster, type TestCluster, type DevClusterOptions } from '../cluster/dev-cluster';
