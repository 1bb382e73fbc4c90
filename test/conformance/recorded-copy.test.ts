/**
 * test/conformance/recorded is the repository's copy of the recorded Swift scenarios, so a clone
 * runs the conformance tests on its own. Where the original (../shared/conformance beside the
 * checkout, or $SLUICE_SHARED_DIR/conformance) is there too, the copy must be identical to it:
 * same files, same bytes, so a re-recording that was not copied in fails here.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RECORDED_DIR } from './replayer';

const ORIGINAL = join(process.env.SLUICE_SHARED_DIR ?? resolve(import.meta.dirname, '..', '..', '..', 'shared'), 'conformance');
const hasOriginal = existsSync(ORIGINAL);

/** Every file under `dir`, as paths relative to it, sorted. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => statSync(join(dir, name)).isFile())
    .sort();
}

describe('test/conformance/recorded', () => {
  it('holds the README and the scenario files', () => {
    const files = filesUnder(RECORDED_DIR);
    expect(files).toContain('README.md');
    expect(files.filter((f) => f.startsWith('scenarios/') && f.endsWith('.json')).length).toBeGreaterThan(0);
  });
});

describe.skipIf(!hasOriginal)(
  hasOriginal ? `test/conformance/recorded is identical to ${ORIGINAL}` : `comparison with the original skipped: ${relative(process.cwd(), ORIGINAL)} does not exist`,
  () => {
    it('has the same files', () => {
      expect(filesUnder(RECORDED_DIR)).toEqual(filesUnder(ORIGINAL));
    });

    it('has the same bytes in every file', () => {
      const differing = filesUnder(ORIGINAL).filter((f) => {
        const copy = join(RECORDED_DIR, f);
        return !existsSync(copy) || !readFileSync(copy).equals(readFileSync(join(ORIGINAL, f)));
      });
      expect(differing).toEqual([]);
    });
  },
);
