/**
 * The allow-list for anything that reaches an xrdp or sesman INI file. xrdp 0.9.21's reader
 * (common/file.c) ends a line at a bare CR as well as LF, cuts a value at `#` or `;`, treats a
 * line with `[...]` anywhere in it as a section header, replaces a value starting with `$` by an
 * environment variable, trims everything up to and including space from both ends, ends a value
 * at a NUL, and stops reading the whole file at a line of 2,048 bytes. A value that avoids all of
 * that reads back exactly as written. Used by input validation and again by the renderer.
 */

/** The most bytes one line may hold: xrdp gives up on the file at a line of 2,048. */
export const MAX_INI_LINE_BYTES = 2047;
/** The most bytes of any value we write; keys are short, so a line stays far below the limit. */
export const MAX_INI_VALUE_BYTES = 1024;
/** The most bytes of a path value. */
export const MAX_INI_PATH_BYTES = 255;

const encoder = new TextEncoder();

export function utf8Bytes(s: string): number {
  return encoder.encode(s).byteLength;
}

// CR, LF and NUL are \p{Cc}; U+202E and the other bidi controls are \p{Cf}; \p{Cs} is a lone
// surrogate, which has no UTF-8 form; U+2028/U+2029 end lines in some viewers.
const FORBIDDEN_CHARACTER = /[\p{Cc}\p{Cf}\p{Cs}\u2028\u2029]/u;
const FORBIDDEN_SYNTAX = /[#;[\]]/;
const PATH = /^\/[A-Za-z0-9._/-]{0,254}$/;

/** Why `value` may not be written as an INI value, or null when it may. */
export function iniValueProblem(value: string): string | null {
  if (FORBIDDEN_CHARACTER.test(value)) return 'must not contain control, format (bidi) or line-separator characters';
  if (FORBIDDEN_SYNTAX.test(value)) return 'must not contain #, ;, [ or ]';
  if (value.startsWith('$')) return 'must not start with $';
  if (value !== value.trim()) return 'must not start or end with whitespace';
  if (utf8Bytes(value) > MAX_INI_VALUE_BYTES) return `must be at most ${MAX_INI_VALUE_BYTES} bytes`;
  return null;
}

/**
 * Why `path` may not be written as an absolute path value, or null when it may: the generic
 * rules, then a strict positive allow-list (letters, digits, `.`, `_`, `-`, `/`), at most 255
 * bytes, and no `..` segment.
 */
export function iniPathProblem(path: string): string | null {
  const generic = iniValueProblem(path);
  if (generic !== null) return generic;
  if (utf8Bytes(path) > MAX_INI_PATH_BYTES) return `must be at most ${MAX_INI_PATH_BYTES} bytes`;
  if (!PATH.test(path)) return 'must be an absolute path of letters, digits, ., _, - and /';
  if (path.split('/').includes('..')) return 'must not contain a .. segment';
  return null;
}

/** Section names and keys are ours, never input; they still must be plain words. */
export const INI_NAME = /^[A-Za-z][A-Za-z0-9_.]*$/;

/** A value or name that the allow-list refuses reached the renderer: a bug, not bad input. */
export class UnsafeIniValueError extends Error {
  constructor(
    readonly where: string,
    readonly problem: string,
  ) {
    super(`refusing to render ${where}: ${problem}`);
    this.name = 'UnsafeIniValueError';
  }
}
