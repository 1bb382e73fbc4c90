/**
 * What every object-storage command shares: its flags (credentials, --json, -q), the
 * connection they make, and how failures become exit statuses:
 * 0 done, 1 a request failed (or some of several did), 2 bad usage or input refused before any
 * request, 4 the storage or auth service cannot be reached, or authentication fails.
 * Messages never hold a token, key or password.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { AuthenticationError, ClientConfigError, ClientConnectionError, EndpointNotFoundError } from '../../client';
import { AclValidationError } from '../../client/acl';
import { ObjectClientUsageError } from '../../client/object';
import { ClientHttpError } from '../../client/types';
import { UsageError } from '../errors';
import type { CliIo } from '../main';
import { connect, type Connection } from './connect';
import { connectionSpec, CREDENTIAL_OPTIONS, CREDENTIAL_USAGE, normaliseCredentialArgs, type CredentialValues } from './credentials';

type Options = NonNullable<ParseArgsConfig['options']>;

const OUTPUT_OPTIONS = {
  json: { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  help: { type: 'boolean', short: 'h' },
} as const;

export interface ParsedCommand<V> {
  values: V & CredentialValues & { json?: boolean; quiet?: boolean };
  positionals: string[];
  /** The Session and ObjectStore, made on first use (tempurl needs none). */
  connection(): Connection;
}

/** Parses `argv` with the command's own `options` and the shared ones; null after --help. */
export function parseCommand<O extends Options>(argv: readonly string[], options: O, usage: string, io: CliIo): ParsedCommand<ReturnType<typeof parseArgs<{ options: O; allowPositionals: true }>>['values']> | null {
  const parsed = parseArgs({ args: normaliseCredentialArgs(argv), options: { ...CREDENTIAL_OPTIONS, ...OUTPUT_OPTIONS, ...options }, allowPositionals: true, strict: true });
  const values = parsed.values as Record<string, unknown>;
  if (values.help) {
    io.out(`${usage}\n\n${CREDENTIAL_USAGE}`);
    return null;
  }
  let made: Connection | undefined;
  return {
    values: values as never,
    positionals: parsed.positionals,
    connection: () => (made ??= connect(connectionSpec(values as CredentialValues))),
  };
}

/** A failure of one object among several, reported and counted, not thrown. */
export function describeFailure(err: unknown): string {
  if (err instanceof ClientHttpError) return `${err.status}${err.body ? `: ${err.body.trim().slice(0, 200)}` : ''}`;
  return (err as Error)?.message ?? String(err);
}

/** The exit status and message for an error that ended a command. */
export function failureStatus(err: unknown): { status: number; message: string } | undefined {
  if (err instanceof AuthenticationError) return { status: 4, message: `authentication failed (${err.status})` };
  if (err instanceof ClientConnectionError || err instanceof EndpointNotFoundError) return { status: 4, message: (err as Error).message };
  if (err instanceof ClientHttpError) return { status: 1, message: `${err.method} ${err.url.replace(/\?.*$/s, '')}: ${describeFailure(err)}` };
  if (err instanceof AclValidationError || err instanceof ObjectClientUsageError || err instanceof ClientConfigError) return { status: 2, message: err.message };
  return undefined;
}

/** Runs a command body, turning the client's errors into exit statuses. */
export async function runCommand(io: CliIo, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof UsageError) throw err;
    const failed = failureStatus(err);
    if (!failed) throw err;
    io.err(`sluice: error: ${failed.message}`);
    return failed.status;
  }
}

/** `--json`: one document on stdout. */
export function printJson(io: CliIo, value: unknown): void {
  io.out(JSON.stringify(value, null, 2));
}

/** `Key: value` lines with the keys right-aligned, as swiftclient's stat prints them. */
export function printFields(io: CliIo, fields: readonly (readonly [string, string | number | undefined])[]): void {
  const shown = fields.filter(([, v]) => v !== undefined && v !== '');
  const width = Math.max(0, ...shown.map(([k]) => k.length));
  for (const [k, v] of shown) io.out(`${k.padStart(width)}: ${v}`);
}

/** `KEY:VALUE` (swiftclient's -m) → metadata; a value may contain colons. */
export function parseMeta(items: readonly string[] | undefined, what = '--meta'): Record<string, string> {
  const meta: Record<string, string> = {};
  for (const item of items ?? []) {
    const i = item.indexOf(':');
    if (i <= 0) throw new UsageError(`${what} takes NAME:VALUE, not ${JSON.stringify(item)}`);
    meta[item.slice(0, i).trim()] = item.slice(i + 1).trim();
  }
  return meta;
}
