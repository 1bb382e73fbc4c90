/**
 * The README's TypeScript example for `sluice/client` (the ```ts block after the
 * `<!-- readme-ts: client-object -->` marker), run as written against a fresh cluster, with
 * `sluice/client` resolved to this checkout's source; what it prints must be the "It prints:"
 * block under it.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../../src/testing/index';
import { ROOT } from './runner';

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** The fenced block of `lang` after `marker`, and the first plain fenced block after "It prints:". */
export function exampleAfter(markdown: string, marker: string): { code: string; prints: string[] } {
  const at = markdown.indexOf(marker);
  if (at < 0) throw new Error(`README has no ${marker}`);
  const code = /```ts\n([\s\S]*?)\n```/.exec(markdown.slice(at));
  if (!code) throw new Error(`no \`\`\`ts block after ${marker}`);
  const rest = markdown.slice(at + code.index + code[0].length);
  const prints = /It prints:\s*\n\n```\n([\s\S]*?)\n```/.exec(rest);
  if (!prints) throw new Error(`no "It prints:" block after the example of ${marker}`);
  return { code: code[1]!, prints: prints[1]!.split('\n') };
}

let cluster: TestCluster;
let dir: string;

beforeAll(async () => {
  cluster = await startCluster();
  dir = mkdtempSync(join(ROOT, 'tmp-readme-client-'));
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('README: sluice/client example', () => {
  it('runs as written and prints what the README says', async () => {
    const { code, prints } = exampleAfter(README, '<!-- readme-ts: client-object -->');
    const file = join(dir, 'example.mts');
    writeFileSync(file, code.replaceAll("from 'sluice/client'", `from ${JSON.stringify(join(ROOT, 'src', 'client', 'index.ts'))}`));
    // Asynchronously: the cluster answering the example runs in this process.
    const r = await promisify(execFile)(process.execPath, ['--import', 'tsx', file], { cwd: dir, encoding: 'utf8', env: { ...process.env, ST_AUTH: `${cluster.url}/auth/v1.0` }, timeout: 90_000 });
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.stdout.trimEnd().split('\n')).toEqual(prints);
  }, 120_000);
});
