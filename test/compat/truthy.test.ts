import { describe, expect, it } from 'vitest';
import { configTrue } from '../../src/compat/truthy';

describe('config_true_value', () => {
  it('true, 1, yes, on, t, y in any case; anything else is false', () => {
    for (const v of ['true', 'TRUE', '1', 'Yes', 'on', 't', 'Y', ' yes ', true]) expect(configTrue(v), String(v)).toBe(true);
    for (const v of ['false', '0', 'no', 'off', '', 'tru', '2', undefined, null, false, 1]) expect(configTrue(v), String(v)).toBe(false);
  });
});
