/**
 * The body check of POST /v3/auth/tokens: Keystone's `token_issue` JSON schema
 * (keystone/auth/schema.py) and the extra checks after it, answering the first failure as
 * Keystone's validator does (jsonschema's first error in schema order, Python reprs). Keystone
 * adds jsonschema's "Failed validating ..." dump after a blank line; the fake answers only the
 * first line.
 */
import { PyNumber, type PyValue } from '../../compat/json';
import { pyRepr } from '../../compat/repr';

type JsonType = 'object' | 'string' | 'array' | 'boolean';

interface SchemaNode {
  type: JsonType | JsonType[];
  /** In the schema's own order: jsonschema reports the first failing property in that order. */
  properties?: Array<[string, SchemaNode]>;
  required?: string[];
  items?: SchemaNode;
}

const str: SchemaNode = { type: 'string' };
const idName: SchemaNode = { type: 'object', properties: [['id', str], ['name', str]] };

const TOKEN_ISSUE: SchemaNode = {
  type: 'object',
  properties: [
    [
      'identity',
      {
        type: 'object',
        properties: [
          ['methods', { type: 'array', items: str }],
          ['password', { type: 'object', properties: [['user', { type: 'object', properties: [['id', str], ['name', str], ['password', str], ['domain', idName]] }]] }],
          ['token', { type: 'object', properties: [['id', str]], required: ['id'] }],
        ],
        required: ['methods'],
      },
    ],
    [
      'scope',
      {
        type: ['object', 'string'],
        properties: [
          ['project', { type: 'object', properties: [['name', str], ['id', str], ['domain', idName]] }],
          ['domain', idName],
          ['OS-TRUST:trust', { type: 'object', properties: [['id', str]] }],
          ['system', { type: 'object', properties: [['all', { type: 'boolean' }]] }],
        ],
      },
    ],
  ],
  required: ['identity'],
};

/** Python's repr() of a parsed JSON value. */
export function pyValueRepr(v: PyValue): string {
  if (v === null) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'string') return pyRepr(v);
  if (v instanceof PyNumber) {
    if (v.isInt) return v.repr;
    if (Number.isNaN(v.value)) return 'nan';
    if (v.value === Infinity) return 'inf';
    if (v.value === -Infinity) return '-inf';
    return v.repr;
  }
  if (Array.isArray(v)) return '[' + v.map(pyValueRepr).join(', ') + ']';
  return '{' + [...v].map(([k, x]) => `${pyRepr(k)}: ${pyValueRepr(x)}`).join(', ') + '}';
}

function isType(v: PyValue, t: JsonType): boolean {
  switch (t) {
    case 'object':
      return v instanceof Map;
    case 'array':
      return Array.isArray(v);
    case 'string':
      return typeof v === 'string';
    case 'boolean':
      return typeof v === 'boolean';
  }
}

interface SchemaFailure {
  path: Array<string | number>;
  message: string;
}

function firstError(v: PyValue, node: SchemaNode, path: Array<string | number>): SchemaFailure | null {
  const types = Array.isArray(node.type) ? node.type : [node.type];
  if (!types.some((t) => isType(v, t))) {
    return { path, message: `${pyValueRepr(v)} is not of type ${types.map((t) => pyRepr(t)).join(', ')}` };
  }
  if (v instanceof Map) {
    for (const [key, child] of node.properties ?? []) {
      if (!v.has(key)) continue;
      const e = firstError(v.get(key)!, child, [...path, key]);
      if (e) return e;
    }
    for (const key of node.required ?? []) if (!v.has(key)) return { path, message: `${pyRepr(key)} is a required property` };
  }
  if (Array.isArray(v) && node.items) {
    for (let i = 0; i < v.length; i++) {
      const e = firstError(v[i]!, node.items, [...path, i]);
      if (e) return e;
    }
  }
  return null;
}

function has(v: PyValue | undefined, key: string): boolean {
  return v instanceof Map && v.has(key);
}

function get(v: PyValue | undefined, key: string): PyValue | undefined {
  return v instanceof Map ? v.get(key) : undefined;
}

/**
 * validate_issue_token_auth(auth): null when `auth` passes, else the SchemaValidationError detail.
 * `auth` null or absent passes here (AuthInfo then asks for it).
 */
export function checkTokenIssueBody(auth: PyValue | undefined): string | null {
  if (auth === undefined || auth === null) return null;
  const e = firstError(auth, TOKEN_ISSUE, []);
  if (e) return e.path.length ? `Invalid input for field '${e.path.join('/')}': ${e.message}` : e.message;

  const user = get(get(get(auth, 'identity'), 'password'), 'user');
  if (user !== undefined) {
    if (!has(user, 'id') && !has(user, 'name')) return 'Invalid input for field identity/password/user: id or name must be present.';
    const domain = get(user, 'domain');
    if (domain !== undefined && !has(domain, 'id') && !has(domain, 'name')) {
      return 'Invalid input for field identity/password/user/domain: id or name must be present.';
    }
  }
  const scope = get(auth, 'scope');
  if (scope instanceof Map) {
    const project = get(scope, 'project');
    if (project !== undefined) {
      if (!has(project, 'id') && !has(project, 'name')) return 'Invalid input for field scope/project: id or name must be present.';
      const domain = get(project, 'domain');
      if (domain !== undefined && !has(domain, 'id') && !has(domain, 'name')) {
        return 'Invalid input for field scope/project/domain: id or name must be present.';
      }
    }
    const domain = get(scope, 'domain');
    if (domain !== undefined && !has(domain, 'id') && !has(domain, 'name')) return 'Invalid input for field scope/domain: id or name must be present.';
  }
  return null;
}
