/**
 * What the policy tests share: a policy file they rewrite while a cluster runs, the JSON lines
 * the cluster logs, and the README's example rules (so the tests apply what the README shows).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';

/** A policy file in a temporary directory; each write changes its mtime and size, so it is reloaded. */
export class PolicyFile {
  private readonly dir = mkdtempSync(join(tmpdir(), 'sluice-policy-'));
  readonly path = join(this.dir, 'policy.yaml');
  private version = 0;

  constructor(initial = '{}\n') {
    this.write(initial);
  }

  write(text: string): void {
    this.version += 1;
    writeFileSync(this.path, `# version ${this.version}\n${text}`);
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A pino logger keeping each JSON line it writes. */
export function capturedLog(level = 'info'): { logger: Logger; lines: Record<string, unknown>[]; last(method: string, path: string): Record<string, unknown> | undefined } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      cb();
    },
  });
  return {
    logger: pino({ level }, sink),
    lines,
    /** The access-log line of the last request with this method and path. */
    last: (method, path) => lines.filter((l) => l.method === method && l.path === path).pop(),
  };
}

const README = (): string => readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

/** A rule of the README's example policy (its `printf '%s\n' '"name": "..."' >> policy.yaml` lines), as YAML. */
export function readmeRule(name: string): string {
  const prefix = `printf '%s\\n' '"${name}": `;
  const line = README().split('\n').find((l) => l.startsWith(prefix));
  if (line === undefined) throw new Error(`README.md has no example rule ${name}`);
  return `${line.slice(`printf '%s\\n' '`.length, line.lastIndexOf("'"))}\n`;
}

/** The README's Keystone example ("only swiftoperator may create containers"), from its yaml block. */
export function readmeKeystoneRule(): string {
  const line = README().split('\n').find((l) => l.startsWith('"swift:container:put": ') && l.includes('role:swiftoperator'));
  if (line === undefined) throw new Error('README.md has no Keystone example policy for swift:container:put');
  return `${line}\n`;
}
