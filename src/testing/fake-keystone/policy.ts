/**
 * Who may validate, check or revoke a token: Keystone 22's default policy
 * (common/policies/token.py and base.py). With enforce_new_defaults off, as Keystone 22 ships,
 * each rule is the new default OR the deprecated one, which here adds nothing the new one lacks.
 */
import type { TokenScope } from './tokens';

export type TokenAction = 'identity:validate_token' | 'identity:check_token' | 'identity:revoke_token';

export interface PolicyCaller {
  userId: string;
  /** Role names of the caller's token, implied ones included. */
  roles: string[];
  scope: TokenScope;
}

export function tokenActionAllowed(action: TokenAction, caller: PolicyCaller, subjectUserId: string | undefined): boolean {
  const admin = caller.roles.includes('admin'); // rule:admin_required
  const systemReader = caller.roles.includes('reader') && caller.scope.kind === 'system';
  const service = caller.roles.includes('service'); // rule:service_role
  // rule:token_subject compares users, so any token of the same user passes
  const subject = subjectUserId !== undefined && subjectUserId === caller.userId;
  switch (action) {
    case 'identity:validate_token':
      return admin || systemReader || service || subject;
    case 'identity:check_token': // HEAD: no service role here
      return admin || systemReader || subject;
    case 'identity:revoke_token':
      return admin || subject;
  }
}
