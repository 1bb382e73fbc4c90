/**
 * Swift's request constraints (swift.common.constraints), overridable from
 * `swift.conf [swift-constraints]` and published in /info under `swift`.
 */

export interface Constraints {
  max_file_size: number;
  max_meta_name_length: number;
  max_meta_value_length: number;
  max_meta_count: number;
  max_meta_overall_size: number;
  max_header_size: number;
  max_object_name_length: number;
  container_listing_limit: number;
  account_listing_limit: number;
  max_account_name_length: number;
  max_container_name_length: number;
  extra_header_count: number;
  valid_api_versions: string[];
  auto_create_account_prefix: string;
}

export const DEFAULT_CONSTRAINTS: Readonly<Constraints> = Object.freeze({
  max_file_size: 5_368_709_122,
  max_meta_name_length: 128,
  max_meta_value_length: 256,
  max_meta_count: 90,
  max_meta_overall_size: 4096,
  max_header_size: 8192,
  max_object_name_length: 1024,
  container_listing_limit: 10_000,
  account_listing_limit: 10_000,
  max_account_name_length: 256,
  max_container_name_length: 256,
  extra_header_count: 0,
  valid_api_versions: ['v1', 'v1.0'],
  auto_create_account_prefix: '.',
});

const INT_KEYS = Object.keys(DEFAULT_CONSTRAINTS).filter(
  (k) => typeof DEFAULT_CONSTRAINTS[k as keyof Constraints] === 'number',
) as (keyof Constraints)[];

/** Applies `[swift-constraints]` overrides; a value that is not a non-negative integer is an error. */
export function constraintsFrom(section: Record<string, unknown> | undefined): Constraints {
  const c: Constraints = { ...DEFAULT_CONSTRAINTS, valid_api_versions: [...DEFAULT_CONSTRAINTS.valid_api_versions] };
  if (!section) return c;
  for (const key of INT_KEYS) {
    const raw = section[key];
    if (raw === undefined) continue;
    const n = Number(String(raw).trim());
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`swift.conf [swift-constraints] ${key} must be a non-negative integer, got ${JSON.stringify(raw)}`);
    (c as unknown as Record<string, number>)[key] = n;
  }
  if (section.valid_api_versions !== undefined) {
    c.valid_api_versions = String(section.valid_api_versions)
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  }
  if (section.auto_create_account_prefix !== undefined) c.auto_create_account_prefix = String(section.auto_create_account_prefix);
  return c;
}
