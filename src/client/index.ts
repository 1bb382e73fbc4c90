/** `sluice/client`: a keystoneauth-style Session, its auth plugins, and the object-storage client on it. */
export { Session, DEFAULT_RETRIABLE_STATUS_CODES, type SessionOptions } from './session';
export { TempAuth, type TempAuthOptions } from './auth/tempauth';
export { V3Password, type V3PasswordOptions } from './auth/v3-password';
export { V3Token, type V3TokenOptions } from './auth/v3-token';
export { V3ApplicationCredential, type V3ApplicationCredentialOptions } from './auth/v3-application-credential';
export { StaticToken, type StaticTokenOptions } from './auth/static-token';
export { BaseAuthPlugin, MIN_TOKEN_LIFE_SECONDS, type AccessInfo, type BaseAuthOptions } from './auth/base';
export { KeystoneV3Auth, type KeystoneV3Options, type KeystoneScopeOptions } from './auth/keystone-v3';
export { type CatalogService, type CatalogEndpoint } from './catalog';
export { type SessionLogger } from './log';
export { type TlsOptions } from './transport';
export { type UserAgentOption } from './user-agent';
export { ClientConnectionError, ClientTimeoutError, ClientTlsError, AuthenticationError, EndpointNotFoundError, ClientConfigError } from './errors';
export {
  ClientHttpError,
  type SessionLike,
  type ClientRequestOptions,
  type ClientResponse,
  type EndpointFilter,
  type RequestBody,
  type AuthPlugin,
  type AuthTransport,
  type AuthTransportResponse,
} from './types';
export * from './object/index';
export * from './acl/index';
