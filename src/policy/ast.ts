/**
 * The tree a rule parses to. Offsets point into the rule text, so an error, a trace or an
 * explanation can show where a check was written; a rule in the legacy list-of-lists form has
 * no one text, and its checks carry the index of the list item they came from instead.
 */

interface Span {
  /** Offset of the first character in the rule text (or in the list item). */
  readonly start: number;
  /** Offset just past the last character. */
  readonly end: number;
  /** For a list-of-lists rule: [outer index, inner index] of the item the node came from. */
  readonly item?: readonly [number, number];
}

/** `@`, or an empty rule: always passes. */
export interface AlwaysNode extends Span {
  readonly type: 'always';
}

/** `!`: never passes. In the compatible mode, also what something oslo.policy could not understand becomes. */
export interface NeverNode extends Span {
  readonly type: 'never';
  /** Why the text was not understood, when it was not written as `!`. */
  readonly invalid?: string;
}

/**
 * A rule that is a single word and no check: `(`, `)`, `and`, `or`, `not` or a quoted string.
 * oslo.policy's parser returns that word itself instead of a check, without complaint, and
 * raises each time the rule is evaluated; the compatible mode does the same.
 */
export interface ErrorNode extends Span {
  readonly type: 'error';
  /** What oslo.policy's parser returned (a quoted string loses its quotes). */
  readonly value: string;
  readonly message: string;
}

/** `kind:match`: `rule:`, `role:`, a generic field or literal check, or a registered kind. */
export interface CheckNode extends Span {
  readonly type: 'check';
  readonly kind: string;
  readonly match: string;
  /** The check as written: `kind:match`. */
  readonly text: string;
}

export interface NotNode extends Span {
  readonly type: 'not';
  readonly child: PolicyNode;
}

export interface AndNode extends Span {
  readonly type: 'and';
  readonly children: readonly PolicyNode[];
}

export interface OrNode extends Span {
  readonly type: 'or';
  readonly children: readonly PolicyNode[];
}

export type PolicyNode = AlwaysNode | NeverNode | ErrorNode | CheckNode | NotNode | AndNode | OrNode;

/** The rule as oslo.policy prints a parsed rule (`str(check)`): `@`, `!`, `kind:match`, `not X`, `(A and B)`, `(A or B)`. */
export function formatNode(node: PolicyNode): string {
  switch (node.type) {
    case 'always':
      return '@';
    case 'never':
      return '!';
    case 'error':
      return node.value;
    case 'check':
      return node.text;
    case 'not':
      return `not ${formatNode(node.child)}`;
    case 'and':
      return `(${node.children.map(formatNode).join(' and ')})`;
    case 'or':
      return `(${node.children.map(formatNode).join(' or ')})`;
  }
}
