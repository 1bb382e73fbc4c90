/**
 * The policy options an auth filter's section takes (sluice; Swift has none):
 *
 *   policy_file = /etc/swift/policy.yaml    rules overriding the defaults (YAML or JSON)
 *   policy_check_interval = 1               seconds between looks at the file for a change
 */
import { resolve } from 'node:path';
import { floatOption, type Section } from '../../proxy/config';

export interface AuthzOptions {
  /** Absolute path of the policy file, if one is configured. */
  readonly policyFile?: string;
  /** Milliseconds between looks at the policy file. */
  readonly checkInterval: number;
}

export function parseAuthzOptions(section: Section): AuthzOptions {
  const file = section.policy_file?.trim();
  return {
    policyFile: file ? resolve(file) : undefined,
    checkInterval: floatOption(section, 'policy_check_interval', 1) * 1000,
  };
}
