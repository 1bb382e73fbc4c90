import { ConfigError } from '../../src/compat/config-error';

/** The ConfigError `fn` throws (any other error is rethrown; none fails the test). */
export function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('no ConfigError');
}
