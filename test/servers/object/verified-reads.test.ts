import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { fileIdentity, VerifiedReads } from '../../../servers/object/verified-reads';

const dir = mkdtempSync(join(tmpdir(), 'verified-reads-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const identityOf = (file: string): string => {
  const fd = openSync(file, 'r');
  try {
    return fileIdentity(fd);
  } finally {
    closeSync(fd);
  }
};

it('names a file the same until it is rewritten or replaced', () => {
  const file = join(dir, 'a.data');
  writeFileSync(file, 'abc');
  const first = identityOf(file);
  expect(identityOf(file)).toBe(first);
  writeFileSync(file, 'abd');
  expect(identityOf(file)).not.toBe(first);
  const other = join(dir, 'b.data');
  writeFileSync(other, 'abd');
  expect(identityOf(other)).not.toBe(identityOf(file));
});

it('remembers a check for its ETag only, and only for the interval', async () => {
  const reads = new VerifiedReads(0.2);
  reads.add('f1', 'etag1');
  expect(reads.has('f1', 'etag1')).toBe(true);
  expect(reads.has('f1', 'etag2')).toBe(false);
  expect(reads.has('f2', 'etag1')).toBe(false);
  await new Promise((r) => setTimeout(r, 400));
  expect(reads.has('f1', 'etag1')).toBe(false);
});
