/**
 * `sluice acl explain`: asks a sluice proxy why a request by someone else would be allowed or
 * denied (the owner-only X-Sluice-Explain protocol of src/middleware/authz/explain-request.ts).
 * The caller authenticates as the account's owner the way python-swiftclient does: TempAuth v1
 * (-A/-U/-K, or ST_AUTH/ST_USER/ST_KEY) or a ready token and storage URL (--os-auth-token and
 * --os-storage-url, or OS_AUTH_TOKEN/OS_STORAGE_URL, e.g. for Keystone users). Tokens and keys
 * are sent as headers only: never printed, not even in errors.
 *
 * Exit status: 0 allow, 1 deny, 2 bad usage (or a question the proxy rejects as malformed),
 * 3 the proxy does not explain (not the owner, or not a proxy that explains), 4 the proxy or
 * the auth service cannot be reached, or authentication fails.
 */
import { parseArgs } from 'node:util';
import { Agent, type Dispatcher } from 'undici';
import { UsageError } from './errors';
import type { CliIo } from './main';

export const ACL_USAGE = `Usage: sluice acl explain --user IDENTITY --path PATH [--method METHOD] [--referer URL]
                         [--roles R1,R2] [--json]
                         [-A AUTH_URL -U USER -K KEY | --os-auth-token TOKEN --os-storage-url URL]

Asks a sluice proxy whether IDENTITY may make a request, and which rule and ACL entries
decide it; the request itself is not made. Only the account's owner may ask (its operator,
an account-ACL admin or a reseller admin), so the credentials are the owner's.

  --user            whom to explain: a TempAuth user (ACCOUNT:USER), a Keystone user
                    (PROJECT_ID:USER_ID) or "anonymous"
  --path            the request path, e.g. /v1/AUTH_test/shared/notes.txt (names as they are,
                    not URL-encoded); without a leading "/" it is relative to the storage URL,
                    e.g. shared/notes.txt
  --method          the request's method (default GET)
  --referer         the Referer the identity would send (for .r: entries in container ACLs)
  --roles           Keystone only: the identity's roles, comma-separated (the proxy cannot
                    look up another user's roles)
  --json            the proxy's answer as JSON, with the whole trace
  -A, --auth        TempAuth v1 auth URL (default $ST_AUTH), e.g. http://127.0.0.1:8080/auth/v1.0
  -U, --auth-user   the owner's ACCOUNT:USER (default $ST_USER)
  -K, --auth-key    the owner's key (default $ST_KEY; prefer it: a --auth-key is visible to
                    other local users in the process list)
  --os-auth-token   a token of the owner (default $OS_AUTH_TOKEN), with
  --os-storage-url  the account's storage URL (default $OS_STORAGE_URL)

As python-swiftclient, a token and storage URL (both given) are used as they are; otherwise
the TempAuth v1 credentials authenticate. Options on the command line win over the
environment.

Exit status: 0 the request would be allowed, 1 denied, 2 bad usage, 3 the proxy does not
explain (the credentials are not the owner's, or the proxy is not one that explains),
4 the proxy or the auth service cannot be reached, or authentication fails.`;

/** How long to wait to connect, and for each part of an answer. */
const CONNECT_TIMEOUT_MS = 10_000;
const ANSWER_TIMEOUT_MS = 60_000;
/** An explanation is a few KiB; anything much bigger is not one. */
const MAX_ANSWER_BYTES = 4 * 1024 * 1024;
const METHOD = /^[A-Za-z]{1,32}$/;

/** A failure with its own exit status; the message never holds a token or key. */
class AclFailure extends Error {
  constructor(
    readonly status: 3 | 4,
    message: string,
    /** Further lines, each printed as `sluice: LINE`. */
    readonly notes: readonly string[] = [],
  ) {
    super(message);
  }
}

interface Credentials {
  readonly token: string;
  readonly storageUrl: URL;
}

type CredentialSource = { kind: 'token'; token: string; storageUrl: string } | { kind: 'v1'; authUrl: string; user: string; key: string };

/** A URL for messages: no user info, query or fragment (where secrets could hide). */
function shown(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

function httpUrl(text: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`${what} is not a URL`, ACL_USAGE);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`${what} is not an http or https URL`, ACL_USAGE);
  return url;
}

/** A header value as undici sends it: bytes (latin-1 characters), no line breaks or other controls. */
function headerSafe(value: string, what: string): string {
  // Only the name of what is wrong: the value may be a secret.
  if (/[^\t\x20-\x7e\x80-\xff]/.test(value)) throw new UsageError(`${what} holds characters a header cannot carry`, ACL_USAGE);
  return value;
}

/** Text as the header bytes the proxy decodes (UTF-8), each byte one latin-1 character. */
function utf8Header(value: string, what: string): string {
  return headerSafe(Buffer.from(value, 'utf8').toString('latin1'), what);
}

/**
 * The owner's credentials, swiftclient's way: a token and storage URL both set are used as
 * they are, else TempAuth v1. A style named on the command line wins over the environment.
 */
function credentialSource(values: { auth?: string; 'auth-user'?: string; 'auth-key'?: string; 'os-auth-token'?: string; 'os-storage-url'?: string }): CredentialSource {
  const env = process.env;
  const v1Given = values.auth !== undefined || values['auth-user'] !== undefined || values['auth-key'] !== undefined;
  const tokenGiven = values['os-auth-token'] !== undefined || values['os-storage-url'] !== undefined;
  if (v1Given && tokenGiven) throw new UsageError('give -A/-U/-K or --os-auth-token/--os-storage-url, not both', ACL_USAGE);
  const token = values['os-auth-token'] ?? (v1Given ? undefined : env.OS_AUTH_TOKEN);
  const storageUrl = values['os-storage-url'] ?? (v1Given ? undefined : env.OS_STORAGE_URL);
  if (token && storageUrl) return { kind: 'token', token, storageUrl };
  if (tokenGiven) throw new UsageError(token ? '--os-auth-token needs --os-storage-url (or OS_STORAGE_URL)' : '--os-storage-url needs --os-auth-token (or OS_AUTH_TOKEN)', ACL_USAGE);
  const authUrl = values.auth ?? env.ST_AUTH;
  const user = values['auth-user'] ?? env.ST_USER;
  const key = values['auth-key'] ?? env.ST_KEY;
  if (authUrl && user && key) return { kind: 'v1', authUrl, user, key };
  const missing = [!authUrl && '-A/--auth (ST_AUTH)', !user && '-U/--auth-user (ST_USER)', !key && '-K/--auth-key (ST_KEY)'].filter(Boolean).join(', ');
  throw new UsageError(`the owner's credentials are missing: give --os-auth-token and --os-storage-url, or -A, -U and -K (missing ${missing})`, ACL_USAGE);
}

/** What went wrong on the way, for a message (never headers: those hold the token). */
function reason(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown; cause?: { code?: unknown; message?: unknown } };
  const message = String(e?.cause?.message ?? e?.message ?? err);
  const code = e?.cause?.code ?? e?.code;
  return code && !message.includes(String(code)) ? `${String(code)}: ${message}` : message;
}

/** The answer's body, or undefined past MAX_ANSWER_BYTES; `from` names the server for errors. */
async function readCapped(body: Dispatcher.ResponseData['body'], from: string): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_ANSWER_BYTES) {
        body.destroy();
        return undefined;
      }
      chunks.push(chunk);
    }
  } catch (err) {
    throw new AclFailure(4, `the answer of ${from} broke off: ${reason(err)}`);
  }
  return Buffer.concat(chunks);
}

/** Skips a body not to be shown (read a little for keep-alive, else the connection closes). */
async function discard(body: Dispatcher.ResponseData['body']): Promise<void> {
  try {
    await body.dump();
  } catch {
    // Nothing of it was wanted.
  }
}

function header(res: Dispatcher.ResponseData, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** TempAuth v1 (swiftclient's get_auth_1_0): GET the auth URL with X-Auth-User and X-Auth-Key. */
async function authenticateV1(agent: Agent, source: Extract<CredentialSource, { kind: 'v1' }>): Promise<Credentials> {
  const authUrl = httpUrl(source.authUrl, 'the auth URL (-A/--auth or ST_AUTH)');
  const headers = { 'x-auth-user': utf8Header(source.user, 'the auth user'), 'x-auth-key': utf8Header(source.key, 'the auth key') };
  let res: Dispatcher.ResponseData;
  try {
    res = await agent.request({ origin: authUrl.origin, path: authUrl.pathname, method: 'GET', headers });
  } catch (err) {
    throw new AclFailure(4, `cannot reach the auth service at ${shown(authUrl)}: ${reason(err)}`);
  }
  await discard(res.body);
  if (res.statusCode < 200 || res.statusCode >= 300) {
    throw new AclFailure(4, `authentication as ${source.user} failed: the auth service at ${shown(authUrl)} answered ${res.statusCode}`);
  }
  const storageUrl = header(res, 'x-storage-url');
  const token = header(res, 'x-storage-token') ?? header(res, 'x-auth-token');
  if (!storageUrl || !token) {
    throw new AclFailure(4, `authentication as ${source.user} failed: the auth service at ${shown(authUrl)} answered ${res.statusCode} without ${!storageUrl ? 'X-Storage-Url' : 'X-Auth-Token'}`);
  }
  let url: URL;
  try {
    url = httpUrl(storageUrl, 'X-Storage-Url');
  } catch {
    throw new AclFailure(4, `authentication as ${source.user} failed: the auth service at ${shown(authUrl)} gave a storage URL that is not an http or https URL`);
  }
  return { token, storageUrl: url };
}

/** Each segment of a name percent-encoded, as swiftclient quotes container and object names. */
function quotePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

/**
 * The path to ask: absolute on the storage URL's host, or below the storage URL. Sent as is,
 * never through a URL parser, which would resolve "." and ".." segments (object names to Swift).
 */
function targetPath(storageUrl: URL, path: string): string {
  const base = path.startsWith('/') ? '' : storageUrl.pathname.replace(/\/+$/, '') + '/';
  return base + quotePath(path);
}

function printLines(io: CliIo, text: string): void {
  const lines = text.split('\n');
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  for (const line of lines) io.out(line);
}

interface Question {
  user: string;
  path: string;
  method: string;
  referer?: string;
  roles?: string;
  json: boolean;
}

async function ask(agent: Agent, creds: Credentials, q: Question, io: CliIo): Promise<number> {
  const origin = creds.storageUrl.origin;
  const path = targetPath(creds.storageUrl, q.path);
  const headers: Record<string, string> = {
    'x-auth-token': headerSafe(creds.token, 'the token'),
    'x-sluice-explain': utf8Header(q.user, '--user'),
    'x-sluice-explain-method': q.method,
  };
  if (q.referer !== undefined) headers['x-sluice-explain-referer'] = utf8Header(q.referer, '--referer');
  if (q.roles !== undefined) headers['x-sluice-explain-roles'] = utf8Header(q.roles, '--roles');
  if (q.json) headers.accept = 'application/json';
  let res: Dispatcher.ResponseData;
  try {
    res = await agent.request({ origin, path, method: 'GET', headers });
  } catch (err) {
    throw new AclFailure(4, `cannot reach the proxy at ${origin}: ${reason(err)}`);
  }
  const decision = header(res, 'x-sluice-explain-decision');
  if (res.statusCode === 401 || res.statusCode === 403) {
    // The proxy says nothing about ACLs to anyone else; neither do we (its body is not shown).
    await discard(res.body);
    const hint = res.statusCode === 401 ? ['a 401 also means the proxy did not accept the token (expired, or not one its auth filter knows)'] : [];
    throw new AclFailure(3, `only the account's owner may ask why (the proxy answered ${res.statusCode})`, hint);
  }
  if (res.statusCode === 400 && decision === undefined) {
    // The proxy names what it cannot explain (e.g. an identity of the wrong form).
    const body = await readCapped(res.body, `the proxy at ${origin}`);
    const why = body?.toString('utf8').trim().split('\n')[0]?.slice(0, 500) || '400 Bad Request';
    throw new UsageError(`the proxy at ${origin} refused the question: ${why}`);
  }
  if (res.statusCode !== 200 || (decision !== 'allow' && decision !== 'deny')) {
    // A proxy that does not explain performs the GET: its body is the object, never shown.
    await discard(res.body);
    if (decision === undefined && res.statusCode >= 200 && res.statusCode < 300) {
      throw new AclFailure(3, `the proxy at ${origin} does not explain decisions (not sluice, or no auth filter that does)`);
    }
    throw new AclFailure(3, `the proxy at ${origin} answered ${res.statusCode}${decision === undefined ? '' : ` with X-Sluice-Explain-Decision ${JSON.stringify(decision)}`}, not an explanation`);
  }
  const body = await readCapped(res.body, `the proxy at ${origin}`);
  if (body === undefined) throw new AclFailure(3, `the proxy at ${origin} answered more than ${MAX_ANSWER_BYTES} bytes, not an explanation`);
  const text = body.toString('utf8');
  if (q.json) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new AclFailure(3, `the proxy at ${origin} answered with X-Sluice-Explain-Decision but no JSON body`);
    }
    printLines(io, JSON.stringify(parsed, null, 2));
  } else {
    printLines(io, text);
  }
  return decision === 'allow' ? 0 : 1;
}

async function explain(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      user: { type: 'string' },
      path: { type: 'string' },
      method: { type: 'string' },
      referer: { type: 'string' },
      roles: { type: 'string' },
      json: { type: 'boolean' },
      auth: { type: 'string', short: 'A' },
      'auth-user': { type: 'string', short: 'U' },
      'auth-key': { type: 'string', short: 'K' },
      'os-auth-token': { type: 'string' },
      'os-storage-url': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.out(ACL_USAGE);
    return 0;
  }
  // Not echoed: a stray word may be part of a key that lost its quotes.
  if (positionals.length) throw new UsageError(`acl explain takes options only (${positionals.length} other argument${positionals.length === 1 ? '' : 's'} given)`, ACL_USAGE);
  const user = values.user?.trim();
  if (!user) throw new UsageError('--user IDENTITY is required (ACCOUNT:USER, PROJECT_ID:USER_ID or anonymous)', ACL_USAGE);
  if (!values.path) throw new UsageError('--path PATH is required', ACL_USAGE);
  const method = values.method ?? 'GET';
  if (!METHOD.test(method)) throw new UsageError(`--method ${JSON.stringify(method)} is not an HTTP method`, ACL_USAGE);
  const source = credentialSource(values);
  const storageUrl = source.kind === 'token' ? httpUrl(source.storageUrl, 'the storage URL (--os-storage-url or OS_STORAGE_URL)') : undefined;
  const question: Question = { user, path: values.path, method: method.toUpperCase(), referer: values.referer, roles: values.roles, json: values.json ?? false };

  // One keep-alive agent for the authentication and the question, closed before returning.
  const agent = new Agent({ connect: { timeout: CONNECT_TIMEOUT_MS }, headersTimeout: ANSWER_TIMEOUT_MS, bodyTimeout: ANSWER_TIMEOUT_MS });
  try {
    const creds = source.kind === 'token' ? { token: source.token, storageUrl: storageUrl! } : await authenticateV1(agent, source);
    return await ask(agent, creds, question, io);
  } catch (err) {
    if (!(err instanceof AclFailure)) throw err;
    io.err(`sluice: error: ${err.message}`);
    for (const note of err.notes) io.err(`sluice: ${note}`);
    return err.status;
  } finally {
    await agent.close();
  }
}

export async function runAcl(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'explain') return explain(rest, io);
  if (sub === '--help' || sub === '-h' || sub === 'help') {
    io.out(ACL_USAGE);
    return 0;
  }
  throw new UsageError(sub === undefined ? 'acl needs a subcommand (show, grant, revoke or explain)' : `unknown acl subcommand ${JSON.stringify(sub)}`, ACL_USAGE);
}
