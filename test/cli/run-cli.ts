/**
 * Runs `sluice <args>` in-process with its output captured, for CLI tests: every line is checked
 * to hold no TempAuth token and none of `secrets` (which a test may add to as it learns tokens).
 */
import { expect } from 'vitest';
import { run } from '../../src/cli/main';

export interface CliResult {
  code: number | undefined;
  out: string[];
  err: string[];
}

const TEMPAUTH_TOKEN = /AUTH_tk[0-9a-f]/;

export function cliRunner(secrets: Set<string>): (...args: string[]) => Promise<CliResult> {
  return async (...args) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await run(args, { out: (l) => out.push(...l.split('\n')), err: (l) => err.push(...l.split('\n')) });
    for (const line of [...out, ...err]) {
      expect(line).not.toMatch(TEMPAUTH_TOKEN);
      for (const s of secrets) expect(line.includes(s), `${JSON.stringify(line)} holds a secret`).toBe(false);
    }
    return { code, out, err };
  };
}
