/**
 * Credentials for the object-storage commands, read as python-swiftclient's shell reads them:
 * flags first, then the environment (ST_AUTH/ST_USER/ST_KEY, OS_*), with its rules for which
 * kind of auth that makes (swiftclient.service.process_options and shell.parse_args):
 *  - a token and a storage URL both given are used as they are;
 *  - `-V 1.0` (the default, also from ST_AUTH_VERSION / OS_AUTH_VERSION /
 *    OS_IDENTITY_API_VERSION) with -A, -U and -K all set is TempAuth v1;
 *  - otherwise Keystone: `--os-auth-type v3applicationcredential` with an id and secret, else
 *    v3 password. swiftclient falls back to Keystone v2 when no domain is named; Keystone has
 *    had no v2 API since Queens, so sluice uses v3 with the `default` domain instead.
 * Secrets are never part of an error message.
 */
import { UsageError } from '../errors';

/** The flags every object-storage command takes (dashes; `--os_x` spellings are accepted too). */
export const CREDENTIAL_OPTIONS = {
  auth: { type: 'string', short: 'A' },
  'auth-version': { type: 'string', short: 'V' },
  'os-identity-api-version': { type: 'string' },
  user: { type: 'string', short: 'U' },
  key: { type: 'string', short: 'K' },
  'os-auth-url': { type: 'string' },
  'os-auth-type': { type: 'string' },
  'os-username': { type: 'string' },
  'os-user-id': { type: 'string' },
  'os-user-domain-id': { type: 'string' },
  'os-user-domain-name': { type: 'string' },
  'os-password': { type: 'string' },
  'os-project-id': { type: 'string' },
  'os-project-name': { type: 'string' },
  'os-tenant-id': { type: 'string' },
  'os-tenant-name': { type: 'string' },
  'os-project-domain-id': { type: 'string' },
  'os-project-domain-name': { type: 'string' },
  'os-application-credential-id': { type: 'string' },
  'os-application-credential-secret': { type: 'string' },
  'os-auth-token': { type: 'string' },
  'os-storage-url': { type: 'string' },
  'os-region-name': { type: 'string' },
  'os-service-type': { type: 'string' },
  'os-endpoint-type': { type: 'string' },
  'os-cacert': { type: 'string' },
  insecure: { type: 'boolean' },
  timeout: { type: 'string', short: 'T' },
  retries: { type: 'string', short: 'R' },
} as const;

export const CREDENTIAL_USAGE = `Credentials (flags win over the environment, as in python-swiftclient):
  -A, --auth URL          TempAuth v1 URL ($ST_AUTH), e.g. http://127.0.0.1:8080/auth/v1.0
  -U, --user USER         ACCOUNT:USER ($ST_USER)      -K, --key KEY   its key ($ST_KEY)
  -V, --auth-version V    1.0 or 3 ($ST_AUTH_VERSION, $OS_AUTH_VERSION, $OS_IDENTITY_API_VERSION)
  --os-auth-url URL --os-username NAME | --os-user-id ID --os-password PW
  --os-user-domain-name|-id  --os-project-name|-id  --os-project-domain-name|-id
  --os-auth-type v3applicationcredential --os-application-credential-id ID
  --os-application-credential-secret SECRET   (each also from the OS_* variable of its name)
  --os-auth-token TOKEN --os-storage-url URL  a ready token and storage URL
  --os-region-name R --os-endpoint-type public|internal|admin --os-service-type T
  --os-cacert FILE --insecure  -T, --timeout SECONDS  -R, --retries N (default 5)
Prefer the environment for keys and passwords: flags are visible in the process list.`;

export type CredentialValues = { [K in keyof typeof CREDENTIAL_OPTIONS]?: (typeof CREDENTIAL_OPTIONS)[K]['type'] extends 'boolean' ? boolean : string };

export type AuthSpec =
  | { kind: 'token'; token: string; storageUrl: string }
  | { kind: 'v1'; authUrl: string; user: string; key: string }
  | {
      kind: 'v3password';
      authUrl: string;
      username?: string;
      userId?: string;
      userDomainId?: string;
      userDomainName?: string;
      password: string;
      projectId?: string;
      projectName?: string;
      projectDomainId?: string;
      projectDomainName?: string;
    }
  | { kind: 'v3applicationcredential'; authUrl: string; id: string; secret: string };

export interface ConnectionSpec {
  auth: AuthSpec;
  /** Where the object-store endpoint is looked up in a Keystone catalog. */
  regionName?: string;
  serviceType: string;
  interface: string;
  cacert?: string;
  insecure: boolean;
  /** Milliseconds; undefined: the Session's default. */
  timeoutMs?: number;
  retries: number;
}

/** `--os_user_id` → `--os-user-id`: swiftclient accepts both spellings of every `--os-` flag. */
export function normaliseCredentialArgs(argv: readonly string[]): string[] {
  return argv.map((a) => {
    const m = /^--(os_[a-z_]+)(=.*)?$/s.exec(a);
    return m ? `--${m[1]!.replace(/_/g, '-')}${m[2] ?? ''}` : a;
  });
}

const TRUE = new Set(['true', '1', 'yes', 'on', 't', 'y']);

/** swiftclient's endpoint types are Keystone v2's (`publicURL`); v3 interfaces drop the `URL`. */
function interfaceName(endpointType: string | undefined): string {
  if (!endpointType) return 'public';
  const name = endpointType.replace(/URL$/, '');
  if (!['public', 'internal', 'admin'].includes(name)) throw new UsageError(`--os-endpoint-type must be public, internal or admin, not ${JSON.stringify(endpointType)}`);
  return name;
}

function nonNegativeInt(text: string | undefined, what: string, fallback: number): number {
  if (text === undefined) return fallback;
  if (!/^\d{1,6}$/.test(text)) throw new UsageError(`${what} must be a whole number, not ${JSON.stringify(text)}`);
  return Number(text);
}

function positiveSeconds(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || !(n > 0)) throw new UsageError(`--timeout must be a number of seconds above 0, not ${JSON.stringify(text)}`);
  return Math.round(n * 1000);
}

function httpUrl(text: string, what: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`${what} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`${what} is not an http or https URL`);
  return text;
}

/** The connection the flags and `env` describe; a UsageError names what is missing. */
export function connectionSpec(values: CredentialValues, env: NodeJS.ProcessEnv = process.env): ConnectionSpec {
  const pick = (flag: keyof CredentialValues, variable?: string): string | undefined => {
    const v = values[flag];
    if (typeof v === 'string' && v !== '') return v;
    const e = variable ? env[variable] : undefined;
    return e === '' ? undefined : e;
  };
  const common = {
    regionName: pick('os-region-name', 'OS_REGION_NAME'),
    serviceType: pick('os-service-type', 'OS_SERVICE_TYPE') ?? 'object-store',
    interface: interfaceName(pick('os-endpoint-type', 'OS_ENDPOINT_TYPE')),
    cacert: pick('os-cacert', 'OS_CACERT'),
    insecure: values.insecure ?? TRUE.has((env.SWIFTCLIENT_INSECURE ?? '').toLowerCase()),
    timeoutMs: positiveSeconds(pick('timeout')),
    retries: nonNegativeInt(pick('retries'), '--retries', 5),
  };

  const token = pick('os-auth-token', 'OS_AUTH_TOKEN');
  const storageUrl = pick('os-storage-url', 'OS_STORAGE_URL');
  if (token && storageUrl) return { ...common, auth: { kind: 'token', token, storageUrl: httpUrl(storageUrl, '--os-storage-url') } };

  let version = pick('auth-version') ?? pick('os-identity-api-version') ?? env.ST_AUTH_VERSION ?? env.OS_AUTH_VERSION ?? env.OS_IDENTITY_API_VERSION ?? '1.0';
  if (version === '3.0') version = '3';
  if (version === '1') version = '1.0';
  if (version === '2' || version === '2.0') throw new UsageError('Keystone v2 is not supported (Keystone has not served it since Queens): use -V 3');
  if (version !== '1.0' && version !== '3') throw new UsageError(`--auth-version must be 1.0 or 3, not ${JSON.stringify(version)}`);

  const v1 = { authUrl: pick('auth', 'ST_AUTH'), user: pick('user', 'ST_USER'), key: pick('key', 'ST_KEY') };
  if (version === '1.0' && v1.authUrl && v1.user && v1.key) return { ...common, auth: { kind: 'v1', authUrl: httpUrl(v1.authUrl, '--auth'), user: v1.user, key: v1.key } };

  // Keystone: new-style arguments fill in for the old ones, as process_options does.
  const authUrl = v1.authUrl ?? pick('os-auth-url', 'OS_AUTH_URL');
  const authType = pick('os-auth-type', 'OS_AUTH_TYPE');
  const keystoneNamed = version === '3' || ['os-username', 'os-user-id', 'os-password', 'os-application-credential-id'].some((f) => pick(f as keyof CredentialValues, f.toUpperCase().replace(/-/g, '_')) !== undefined);
  if (token || storageUrl) throw new UsageError(token ? '--os-auth-token needs --os-storage-url (or OS_STORAGE_URL)' : '--os-storage-url needs --os-auth-token (or OS_AUTH_TOKEN)');
  if (!keystoneNamed) {
    const missing = [!v1.authUrl && 'ST_AUTH (-A)', !v1.user && 'ST_USER (-U)', !v1.key && 'ST_KEY (-K)'].filter(Boolean);
    throw new UsageError(`no credentials: TempAuth needs ${missing.join(', ')}; Keystone needs OS_AUTH_URL, OS_USERNAME and OS_PASSWORD (or -V 3 and the --os-* flags)`);
  }
  if (!authUrl) throw new UsageError('Keystone needs OS_AUTH_URL (or --os-auth-url)');
  const keystoneUrl = httpUrl(authUrl, '--os-auth-url');
  if (authType !== undefined && !['password', 'v3password', 'v3applicationcredential'].includes(authType)) {
    throw new UsageError(`--os-auth-type must be password, v3password or v3applicationcredential, not ${JSON.stringify(authType)}`);
  }
  if (authType === 'v3applicationcredential') {
    const id = pick('os-application-credential-id', 'OS_APPLICATION_CREDENTIAL_ID');
    const secret = pick('os-application-credential-secret', 'OS_APPLICATION_CREDENTIAL_SECRET');
    if (!id || !secret) throw new UsageError('an application credential needs OS_APPLICATION_CREDENTIAL_ID and OS_APPLICATION_CREDENTIAL_SECRET (or --os-application-credential-id and --os-application-credential-secret)');
    return { ...common, auth: { kind: 'v3applicationcredential', authUrl: keystoneUrl, id, secret } };
  }
  const username = v1.user ?? pick('os-username', 'OS_USERNAME');
  const userId = pick('os-user-id', 'OS_USER_ID');
  const password = v1.key ?? pick('os-password', 'OS_PASSWORD');
  if (!username && !userId) throw new UsageError('Keystone needs OS_USERNAME or OS_USER_ID (or --os-username, --os-user-id)');
  if (!password) throw new UsageError('Keystone needs OS_PASSWORD (or --os-password)');
  const projectId = pick('os-project-id', 'OS_PROJECT_ID') ?? pick('os-tenant-id', 'OS_TENANT_ID');
  const projectName = pick('os-project-name', 'OS_PROJECT_NAME') ?? pick('os-tenant-name', 'OS_TENANT_NAME');
  let userDomainId = pick('os-user-domain-id', 'OS_USER_DOMAIN_ID');
  const userDomainName = pick('os-user-domain-name', 'OS_USER_DOMAIN_NAME');
  let projectDomainId = pick('os-project-domain-id', 'OS_PROJECT_DOMAIN_ID');
  const projectDomainName = pick('os-project-domain-name', 'OS_PROJECT_DOMAIN_NAME');
  // A name without a domain is looked up in the default domain (what v2 clients meant).
  if (username && !userId && !userDomainId && !userDomainName) userDomainId = 'default';
  if (projectName && !projectId && !projectDomainId && !projectDomainName) projectDomainId = 'default';
  return {
    ...common,
    auth: { kind: 'v3password', authUrl: keystoneUrl, username: userId ? undefined : username, userId, userDomainId, userDomainName, password, projectId, projectName, projectDomainId, projectDomainName },
  };
}
