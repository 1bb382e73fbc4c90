/**
 * `[filter:keystoneauth]` options, read as Swift's KeystoneAuth.__init__ reads them: reseller
 * prefixes with per-prefix operator, service and project-reader roles
 * (config_read_reseller_options), the reseller admin and system reader roles, overrides, and
 * whether names may appear in ACLs.
 */
import { listOption, type Section } from '../../proxy/config';
import { configTrue } from '../../compat/truthy';
import { readResellerOptions } from '../reseller-options';
import { parseAuthzOptions, type AuthzOptions } from '../authz/options';

/** Roles per reseller prefix, lower-cased as Swift compares them. */
export interface AccountRules {
  operatorRoles: readonly string[];
  serviceRoles: readonly string[];
  projectReaderRoles: readonly string[];
}

export interface KeystoneAuthConfig {
  /** Prefixes with `_` appended ('' for the empty prefix), configured order; never empty. */
  resellerPrefixes: string[];
  accountRules: Map<string, AccountRules>;
  /** reseller_admin_role, lower-cased. */
  resellerAdminRole: string;
  systemReaderRoles: ReadonlySet<string>;
  allowOverrides: boolean;
  defaultDomainId: string;
  allowNamesInAcls: boolean;
  /** Start-up warnings (options Swift no longer honours). */
  warnings: string[];
  /** sluice: the policy file over the default rules (src/middleware/authz). */
  authz: AuthzOptions;
}

export function parseKeystoneAuthConfig(conf: Section): KeystoneAuthConfig {
  const { prefixes, options } = readResellerOptions(conf, {
    operator_roles: ['admin', 'swiftoperator'],
    service_roles: [],
    project_reader_roles: [],
  });
  const accountRules = new Map<string, AccountRules>();
  for (const [p, o] of options) accountRules.set(p, { operatorRoles: o.operator_roles, serviceRoles: o.service_roles, projectReaderRoles: o.project_reader_roles });
  const warnings: string[] = [];
  if (configTrue((conf.is_admin ?? 'false').toLowerCase())) {
    warnings.push("The 'is_admin' option for keystoneauth is no longer supported. Remove the 'is_admin' option from your keystoneauth config");
  }
  return {
    resellerPrefixes: prefixes,
    accountRules,
    resellerAdminRole: (conf.reseller_admin_role ?? 'ResellerAdmin').toLowerCase(),
    systemReaderRoles: new Set(listOption(conf, 'system_reader_roles').map((r) => r.toLowerCase())),
    allowOverrides: configTrue((conf.allow_overrides ?? 't').toLowerCase()),
    defaultDomainId: conf.default_domain_id ?? 'default',
    allowNamesInAcls: configTrue(conf.allow_names_in_acls ?? 'true'),
    warnings,
    authz: parseAuthzOptions(conf),
  };
}
