/**
 * Swift's config_true_value (swift.common.utils): how a config option, or a header such as
 * X-Backend-Replication, reads as a boolean.
 */

const TRUE_VALUES = new Set(['true', '1', 'yes', 'on', 't', 'y']);

/**
 * True for `true`, `1`, `yes`, `on`, `t`, `y` in any case (and for the boolean true an INI
 * parser may hand over); anything else, absent included, is false. Surrounding whitespace is
 * ignored: ConfigParser and HTTP header parsing strip it before Swift ever sees the value.
 */
export function configTrue(value: unknown): boolean {
  return value === true || (typeof value === 'string' && TRUE_VALUES.has(value.trim().toLowerCase()));
}
