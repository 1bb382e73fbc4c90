/** ACL helpers of the object-storage client (`sluice/client`). */
export { AccountAclClient, accountAcl, parseAccountAcl, formatAccountAcl, emptyAccountAcl, ACCOUNT_ACL_LEVELS, type AccountAcl, type AccountAclLevel, type AccountAclOptions } from './account-acl';
export { containerAcl, validateContainerAcl, ContainerAclBuilder, type ContainerAclHeaders, type ContainerAclKind, type ReadAclSpec, type WriteAclSpec } from './container-acl';
export { AclValidationError } from './errors';
