/**
 * The one error type of configuration reading. `kind` names the Python exception Swift would
 * have raised (configparser's MissingSectionHeaderError, DuplicateSectionError, ...), so a
 * caller or a test can tell the cases apart without matching messages.
 */
export type ConfigErrorKind =
  /** A line that is not a comment or blank before the first `[section]` (MissingSectionHeaderError). */
  | 'missing-section-header'
  /** A section header repeated in one file (DuplicateSectionError). */
  | 'duplicate-section'
  /** An option repeated in one section of one file (DuplicateOptionError). */
  | 'duplicate-option'
  /** A line that is neither a header, an option nor a continuation (ParsingError). */
  | 'parsing'
  /** A `%` not followed by `%` or `(name)s` (InterpolationSyntaxError). */
  | 'interpolation-syntax'
  /** `%(name)s` naming an option that does not exist (InterpolationMissingOptionError). */
  | 'interpolation-missing-option'
  /** References nested deeper than configparser's MAX_INTERPOLATION_DEPTH (InterpolationDepthError). */
  | 'interpolation-depth'
  /** Bytes that are not UTF-8 (UnicodeDecodeError). */
  | 'decode'
  /** A file or directory that cannot be read (OSError / readconf's IOError). */
  | 'read'
  /** PasteDeploy refusing a section (its LookupError): no `use`, unknown egg, bad pipeline. */
  | 'paste'
  /** A value a reader refuses (a non-integer where an integer belongs, ...). */
  | 'invalid';

export interface ConfigErrorDetails {
  kind?: ConfigErrorKind;
  /** The file (or label) the text came from. */
  source?: string;
  /** 1-based line in `source`. */
  line?: number;
}

export class ConfigError extends Error {
  readonly kind: ConfigErrorKind;
  readonly source: string | undefined;
  readonly line: number | undefined;

  constructor(message: string, details: ConfigErrorDetails = {}) {
    super(message);
    this.name = 'ConfigError';
    this.kind = details.kind ?? 'invalid';
    this.source = details.source;
    this.line = details.line;
  }
}

/** "file:line: " (or "file: ") for messages, so every error says where it comes from. */
export function where(source: string | undefined, line?: number): string {
  if (source === undefined) return '';
  return line === undefined ? `${source}: ` : `${source}:${line}: `;
}
