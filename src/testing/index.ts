/**
 * Test harness for users of sluice (`import { startCluster } from 'sluice/testing'`): a complete
 * cluster on ephemeral ports in a temp directory, torn down by stop().
 */
export { startCluster, type TestCluster, type DevClusterOptions } from '../cluster/dev-cluster';
export {
  startFakeKeystone,
  type FakeKeystone,
  type FakeKeystoneOptions,
  type FakeKeystoneDomainOptions,
  type FakeKeystoneProjectOptions,
  type FakeKeystoneRoleOptions,
  type FakeKeystoneUserOptions,
  type FakeKeystoneApplicationCredentialOptions,
  type FakeKeystoneServiceOptions,
  type FakeKeystoneEndpointOptions,
  type FakeKeystoneAdminProject,
  type FakeKeystoneRoute,
  type FakeKeystoneIssueRequest,
  type FakeKeystoneIssuedToken,
  type FakeKeystoneIds,
} from './fake-keystone/index';
export {
  startFakeServer,
  type FakeServer,
  type FakeServerOptions,
  type FakeBehaviour,
  type FakeBehaviourChoice,
  type FakeRequestInfo,
  type FakeRecordedRequest,
} from './fake-server';
