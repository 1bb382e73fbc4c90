/**
 * `sluice start --auth tempauth|keystone` and the Keystone options: which auth the development
 * cluster runs, and for Keystone the service credentials authtoken validates tokens with. Every
 * mistake here is a start-up failure (exit 1, one `sluice: error:` line) found before anything
 * starts. The service password never comes from argv, where every local user could read it
 * (`ps`, /proc/<pid>/cmdline): SLUICE_KEYSTONE_PASSWORD or --keystone-password-file.
 */
import { readFileSync, statSync } from 'node:fs';
import { keystoneBaseUrl, type DevKeystoneAuth } from '../cluster/dev-cluster';

export const PASSWORD_ENV = 'SLUICE_KEYSTONE_PASSWORD';

export const AUTH_USAGE = `  --auth tempauth|keystone
              the auth middleware of the built-in configuration (default tempauth, with
              Swift's development users); keystone puts keystonemiddleware's authtoken and
              Swift's keystoneauth in its place (delay_auth_decision = true, so container ACLs
              and tempurl still serve anonymous requests)
  --keystone-url URL
              Keystone's URL, with or without /v3 (e.g. http://127.0.0.1:5000/v3); needed
              with --auth keystone
  --keystone-user NAME, --keystone-project NAME, --keystone-domain ID
              the service user that validates tokens, its project, and the domain id of both
              (default sluice, service, default)
  --keystone-password-file FILE
              that user's password, the file's first line; without it, the environment
              variable ${PASSWORD_ENV}. Never on the command line, where every
              local user could read it.`;

/** The start options this module reads (node:util parseArgs definitions and values). */
export const AUTH_OPTIONS = {
  auth: { type: 'string' },
  'keystone-url': { type: 'string' },
  'keystone-user': { type: 'string' },
  'keystone-project': { type: 'string' },
  'keystone-domain': { type: 'string' },
  'keystone-password-file': { type: 'string' },
} as const;

export interface AuthValues {
  auth?: string;
  'keystone-url'?: string;
  'keystone-user'?: string;
  'keystone-project'?: string;
  'keystone-domain'?: string;
  'keystone-password-file'?: string;
  /** --config: the built-in configuration is the only one --auth changes. */
  config?: string;
}

export type StartAuth = { kind: 'tempauth' } | { kind: 'keystone'; keystone: DevKeystoneAuth };

export interface StartAuthIo {
  /** Warnings (a password file others can read). */
  warn(line: string): void;
}

/** The password file's first line (a trailing newline is not part of the password). */
function readPasswordFile(path: string, io: StartAuthIo): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
    // As ssh does for a private key: say so when the file is not the user's alone.
    if (statSync(path).mode & 0o077) io.warn(`sluice: warning: --keystone-password-file ${path} can be read by other users (chmod 600 it)`);
  } catch (err) {
    throw new Error(`--keystone-password-file ${path} cannot be read: ${(err as Error).message}`, { cause: err });
  }
  const password = text.replace(/\r?\n$/, '');
  if (password === '') throw new Error(`--keystone-password-file ${path} is empty`);
  if (/[\r\n]/.test(password)) throw new Error(`--keystone-password-file ${path} holds more than one line`);
  return password;
}

/**
 * A password option would put the secret where `ps` shows it: refused with the ways that do not,
 * before the argument parser calls it just an unknown option.
 */
export function refusePasswordArgument(args: string[]): void {
  if (args.some((a) => a === '--keystone-password' || a.startsWith('--keystone-password='))) {
    throw new Error(`there is no --keystone-password: a password on the command line is visible to every local user; set ${PASSWORD_ENV} or give --keystone-password-file FILE`);
  }
}

/** Reads and checks the auth options; throws (an exit 1) on any inconsistency. */
export function startAuth(values: AuthValues, env: NodeJS.ProcessEnv, io: StartAuthIo): StartAuth {
  const kind = values.auth ?? 'tempauth';
  const keystoneOptions = (['keystone-url', 'keystone-user', 'keystone-project', 'keystone-domain', 'keystone-password-file'] as const).filter((o) => values[o] !== undefined);
  if (kind !== 'tempauth' && kind !== 'keystone') throw new Error(`--auth must be tempauth or keystone (got ${JSON.stringify(kind)})`);
  if (kind === 'tempauth') {
    if (keystoneOptions.length) throw new Error(`--${keystoneOptions[0]} needs --auth keystone`);
    return { kind };
  }
  if (values.config !== undefined) {
    throw new Error('--auth keystone changes the built-in configuration; with --config, put [filter:authtoken] and [filter:keystoneauth] in that file');
  }
  const rawUrl = values['keystone-url'];
  if (rawUrl === undefined) throw new Error('--auth keystone needs --keystone-url (e.g. http://127.0.0.1:5000/v3)');
  try {
    keystoneBaseUrl(rawUrl);
  } catch (err) {
    throw new Error(`--keystone-url: ${(err as Error).message}`, { cause: err });
  }
  const file = values['keystone-password-file'];
  let password: string;
  if (file !== undefined) {
    password = readPasswordFile(file, io);
  } else {
    const fromEnv = env[PASSWORD_ENV];
    if (!fromEnv) throw new Error(`--auth keystone needs the service user's password: set ${PASSWORD_ENV} or give --keystone-password-file FILE`);
    password = fromEnv;
  }
  const names = { username: values['keystone-user'] ?? 'sluice', projectName: values['keystone-project'] ?? 'service', domainId: values['keystone-domain'] ?? 'default' };
  for (const [option, value] of [['--keystone-user', names.username], ['--keystone-project', names.projectName], ['--keystone-domain', names.domainId]] as const) {
    if (value.trim() === '' || value.trim() !== value || /[\r\n]/.test(value)) throw new Error(`${option} must be a name without surrounding white space (got ${JSON.stringify(value)})`);
  }
  if (password.trim() !== password) throw new Error('the Keystone password must not begin or end with white space (proxy-server.conf cannot hold it)');
  return { kind, keystone: { url: rawUrl, password, ...names } };
}
