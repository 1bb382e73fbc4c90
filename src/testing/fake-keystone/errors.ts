/**
 * Keystone's error answers (keystone/exception.py, rendered by server/flask/application.py):
 * `{"error": {"code", "message", "title"}}` (plus `identity` for auth-plugin errors), and the
 * messages a production Keystone (insecure_debug off) gives for each kind of failure.
 */

export class KeystoneError {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 500,
    readonly message: string,
    /** Auth-plugin errors (AuthPluginException) add `identity` to the body. */
    readonly identity?: Record<string, unknown>,
  ) {}
}

export const TITLES: Record<KeystoneError['status'], string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  500: 'Internal Server Error',
};

/**
 * Every Unauthorized is a SecurityError: without insecure_debug its message is the class's fixed
 * text, whatever the detail (unknown user, wrong password, no role on the scope...).
 */
export function unauthorized(): KeystoneError {
  return new KeystoneError(401, 'The request you have made requires authentication.');
}

/** ValidationError(attribute=..., target=...). */
export function validationError(attribute: string, target: string): KeystoneError {
  return new KeystoneError(
    400,
    `Expecting to find ${attribute} in ${target}. The server could not comply with the request since it is ` +
      'either malformed or otherwise incorrect. The client is assumed to be in error.',
  );
}

/** SchemaValidationError(detail=...): the detail is the whole message. */
export function schemaError(detail: string): KeystoneError {
  return new KeystoneError(400, detail);
}

/** ForbiddenAction(action=...); the action texts that end in a period give Keystone's double period. */
export function forbiddenAction(action: string): KeystoneError {
  return new KeystoneError(403, `You are not authorized to perform the requested action: ${action}.`);
}

export function notFound(message: string): KeystoneError {
  return new KeystoneError(404, message);
}

/** The auth methods Keystone 22 enables by default ([auth] methods), which AuthMethodNotSupported lists. */
export const KEYSTONE_AUTH_METHODS = ['external', 'password', 'token', 'oauth1', 'mapped', 'application_credential'];

export function authMethodNotSupported(): KeystoneError {
  return new KeystoneError(401, 'Attempted to authenticate with an unsupported method.', { methods: KEYSTONE_AUTH_METHODS });
}

/** ApplicationCredentialAuthError: a SecurityError whose format includes the detail. */
export function applicationCredentialAuthError(detail: string): KeystoneError {
  return new KeystoneError(401, `Error authenticating with application credential: ${detail}`, {});
}

export function unexpectedError(): KeystoneError {
  return new KeystoneError(500, 'An unexpected error prevented the server from fulfilling your request.');
}
