/**
 * Status reasons and default bodies as Swift's swob produces them: a response without an
 * explicit body gets `<html><h1>{title}</h1><p>{explanation}</p></html>` (text/html; charset=UTF-8)
 * when its status has an explanation; 2xx codes other than 202 have none and stay empty.
 */

const REASONS: Record<number, [string, string]> = {
  100: ['Continue', ''],
  200: ['OK', ''],
  201: ['Created', ''],
  202: ['Accepted', 'The request is accepted for processing.'],
  204: ['No Content', ''],
  206: ['Partial Content', ''],
  301: ['Moved Permanently', 'The resource has moved permanently.'],
  302: ['Found', 'The resource has moved temporarily.'],
  303: ['See Other', 'The response to the request can be found under a different URI.'],
  304: ['Not Modified', ''],
  307: ['Temporary Redirect', 'The resource has moved temporarily.'],
  400: ['Bad Request', 'The server could not comply with the request since it is either malformed or otherwise incorrect.'],
  401: ['Unauthorized', 'This server could not verify that you are authorized to access the document you requested.'],
  402: ['Payment Required', 'Access was denied for financial reasons.'],
  403: ['Forbidden', 'Access was denied to this resource.'],
  404: ['Not Found', 'The resource could not be found.'],
  405: ['Method Not Allowed', 'The method is not allowed for this resource.'],
  406: ['Not Acceptable', 'The resource is not available in a format acceptable to your browser.'],
  408: ['Request Timeout', 'The server has waited too long for the request to be sent by the client.'],
  409: ['Conflict', 'There was a conflict when trying to complete your request.'],
  410: ['Gone', 'This resource is no longer available.'],
  411: ['Length Required', 'Content-Length header required.'],
  412: ['Precondition Failed', 'A precondition for this request was not met.'],
  413: ['Request Entity Too Large', 'The body of your request was too large for this server.'],
  414: ['Request URI Too Long', 'The request URI was too long for this server.'],
  415: ['Unsupported Media Type', 'The request media type is not supported by this server.'],
  416: ['Requested Range Not Satisfiable', 'The Range requested is not available.'],
  417: ['Expectation Failed', 'Expectation failed.'],
  422: ['Unprocessable Entity', 'Unable to process the contained instructions'],
  // Not swob's: the status lines Swift's ratelimit answers with.
  497: ['Blacklisted', ''],
  498: ['Rate Limited', ''],
  499: ['Client Disconnect', 'The client was disconnected during request.'],
  500: ['Internal Error', 'The server has either erred or is incapable of performing the requested operation.'],
  501: ['Not Implemented', 'The requested method is not implemented by this server.'],
  502: ['Bad Gateway', 'Bad gateway.'],
  503: ['Service Unavailable', 'The server is currently unavailable. Please try again at a later time.'],
  504: ['Gateway Timeout', 'A timeout has occurred speaking to a backend server.'],
  507: ['Insufficient Storage', 'There was not enough space to save the resource. Drive: %(drive)s'],
};

/** swob's reason phrase for a status it knows, else undefined. */
export function swobReason(status: number): string | undefined {
  return REASONS[status]?.[0];
}

export function statusTitle(status: number): string {
  return REASONS[status]?.[0] ?? 'Unknown';
}

/** The status line Swift sends, e.g. `404 Not Found`. */
export function statusLine(status: number): string {
  return `${status} ${statusTitle(status)}`;
}

/**
 * swob's default body for a status, or '' when the status has no explanation.
 * `vars` fills `%(name)s` placeholders (507 names the drive).
 */
export function defaultBody(status: number, vars: Record<string, string> = {}): string {
  const r = REASONS[status];
  if (!r || !r[1]) return '';
  const explanation = r[1].replace(/%\((\w+)\)s/g, (_, k: string) => vars[k] ?? '');
  return `<html><h1>${r[0]}</h1><p>${explanation}</p></html>`;
}

export const HTML_CONTENT_TYPE = 'text/html; charset=UTF-8';
