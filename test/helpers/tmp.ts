import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A temp `devices` directory with the named device sub-directories; remove() deletes it. */
export function makeDevices(devices: string[] = ['sda']): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-test-'));
  for (const d of devices) mkdirSync(join(dir, d));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
