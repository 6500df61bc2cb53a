/**
 * A byte-for-byte TypeScript port of the INI reader of xrdp 0.9.21 (neutrinolabs/xrdp), used to
 * check what xrdp and sesman will really read from the files we render. Ported from:
 *
 * - common/file.c
 *   - `file_read_ini_line`: a line ends at LF (10) *or* CR (13); a run of CR/LF bytes is one line
 *     end (so blank lines vanish); `#` or `;` anywhere drops the rest of the line (there is no
 *     quoting or escaping); a line that reaches FILE_MAX_LINE_BYTES (2048) stored bytes is an
 *     error, and the caller then stops reading the file; the last line needs no line end.
 *   - `line_lookup_for_section_name`: a line is a section header when it holds `[` ... `]`
 *     anywhere, not only at its start; the name is the text between the last `[` before the first
 *     `]` that follows a `[`, and that `]`. Text around it is ignored (`x[Xorg]y` is `[Xorg]`).
 *   - `l_file_read_sections`: every header in file order, duplicates included.
 *   - `l_file_read_section`: finds the *first* header whose name equals the wanted one ignoring
 *     ASCII case (`g_strcasecmp`), then takes each non-empty line up to the next header; a later
 *     header of the same name is never read. A value starting with `$` is replaced by the
 *     environment variable named by the rest (`g_getenv`), or by "" when it is unset.
 *   - `file_split_name_value`: name and value split at the first `=` (a line without one is a
 *     name with an empty value), then both trimmed.
 *   - `file_read_section` reads at most 32 KiB (by descriptor); `file_by_name_read_section(s)`
 *     read the whole file and fail on an empty one.
 * - common/string_calls.c `g_strtrim(s, 3)`: converts with mbstowcs and trims characters <= 32
 *   (space and C0 controls) from both ends; when mbstowcs fails (invalid multibyte text) the
 *   string is left as it is. xrdp's `g_init` (common/os_calls.c) selects the C.UTF-8 locale, so
 *   the multibyte text is UTF-8.
 * - C strings: the reader stores a NUL byte like any other, but every later step (`g_strlen`,
 *   the section lookup, strdup) stops at it, so a NUL ends the line's content.
 * - glibc `getenv`: the first `NAME=value` entry whose text starts with NAME followed by `=`;
 *   an empty NAME is never found.
 * - common/list.c: names and values are kept in insertion order (`list_add_strdup`); callers such
 *   as xrdp/xrdp_listen.c and sesman/config.c walk them in order, so a repeated key is seen twice
 *   and the last one usually wins.
 */

/** common/file.c FILE_MAX_LINE_BYTES */
export const FILE_MAX_LINE_BYTES = 2048;
/** The limit of file_read_section / file_read_sections (reads by descriptor). */
export const FILE_READ_SECTION_MAX_BYTES = 32 * 1024;

export interface XrdpIniReadOptions {
  /** The process environment, for `$NAME` values. @default {} */
  env?: Readonly<Record<string, string>>;
  /**
   * Bytes read from the file: the whole file for file_by_name_read_section(s) (the default), or
   * FILE_READ_SECTION_MAX_BYTES for file_read_section(s).
   */
  maxFileBytes?: number;
}

/** The parse state of `struct stream`: data, read position and end. */
interface Stream {
  data: Uint8Array;
  p: number;
  end: number;
}

const LF = 10;
const CR = 13;
const HASH = 0x23;
const SEMICOLON = 0x3b;
const OPEN = 0x5b;
const CLOSE = 0x5d;
const EQUALS = 0x3d;
const DOLLAR = 0x24;

function open(bytes: Uint8Array, options: XrdpIniReadOptions): Stream | null {
  const len = Math.min(bytes.byteLength, options.maxFileBytes ?? bytes.byteLength);
  // file_by_name_*: g_file_get_size < 1 is an error; l_file_*: len > 0 is needed to parse.
  if (len < 1) return null;
  return { data: bytes, p: 0, end: len };
}

/** The bytes of a C string held in `text`: up to its first NUL. */
function cString(text: readonly number[]): Uint8Array {
  const nul = text.indexOf(0);
  return Uint8Array.from(nul === -1 ? text : text.slice(0, nul));
}

/** file_read_ini_line: the next line without its comment, or null for "returns 1" (end or error). */
function fileReadIniLine(s: Stream, textBytes: number): Uint8Array | null {
  if (s.p >= s.end) return null;
  const text: number[] = [];
  let skipToEnd = false;
  let c = s.data[s.p++] ?? 0;
  while (c !== LF && c !== CR) {
    if (c === HASH || c === SEMICOLON) skipToEnd = true;
    if (!skipToEnd) {
      text.push(c);
      if (text.length >= textBytes) return null;
    }
    if (s.p < s.end) {
      c = s.data[s.p++] ?? 0;
    } else {
      c = 0;
      break;
    }
  }
  if (c === LF || c === CR) {
    let atEnd = false;
    while (c === LF || c === CR) {
      if (s.p < s.end) {
        c = s.data[s.p++] ?? 0;
      } else {
        atEnd = true;
        break;
      }
    }
    if (!atEnd) s.p--;
  }
  return cString(text);
}

/** line_lookup_for_section_name: the section name when the line is a header, else null. */
function lineLookupForSectionName(str: Uint8Array, strBytes: number): Uint8Array | null {
  let nameIndexStart = -1;
  for (let index = 0; index < str.length; index++) {
    const c = str[index];
    if (c === OPEN) {
      nameIndexStart = index + 1;
    } else if (c === CLOSE && nameIndexStart > 0) {
      if (nameIndexStart + index >= strBytes) return null;
      return str.slice(nameIndexStart, index);
    }
  }
  return null;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** g_strtrim(str, 3) in a UTF-8 locale: trim code points <= 32 at both ends, unless undecodable. */
function gStrtrimBoth(bytes: Uint8Array): Uint8Array {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return bytes; // mbstowcs returned -1: len < 1, the string is left alone
  }
  const points = [...text];
  let start = 0;
  while (start < points.length && (points[start]?.codePointAt(0) ?? 0) <= 32) start++;
  let end = points.length;
  while (end > start && (points[end - 1]?.codePointAt(0) ?? 0) <= 32) end--;
  return new TextEncoder().encode(points.slice(start, end).join(''));
}

/** file_split_name_value: split at the first `=`, trim both. */
function fileSplitNameValue(text: Uint8Array): { name: Uint8Array; value: Uint8Array } {
  const eq = text.indexOf(EQUALS);
  const name = eq === -1 ? text : text.slice(0, eq);
  const value = eq === -1 ? new Uint8Array(0) : text.slice(eq + 1);
  return { name: gStrtrimBoth(name), value: gStrtrimBoth(value) };
}

/** glibc getenv over the given environment; bytes in, bytes out, null when not found. */
function gGetenv(name: Uint8Array, env: Readonly<Record<string, string>>): Uint8Array | null {
  if (name.length === 0) return null;
  const encoder = new TextEncoder();
  for (const [k, v] of Object.entries(env)) {
    const entry = encoder.encode(`${k}=${v}`);
    if (entry.length > name.length && entry[name.length] === EQUALS && name.every((b, i) => entry[i] === b)) {
      return entry.slice(name.length + 1);
    }
  }
  return null;
}

const asciiFold = (x: number) => (x >= 0x41 && x <= 0x5a ? x + 32 : x);

/** strcasecmp in the C.UTF-8 locale: only ASCII letters fold. */
function asciiCaseEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  return a.every((x, i) => asciiFold(x) === asciiFold(b[i] ?? -1));
}

/** l_file_read_sections: the section names in file order; null when the file cannot be read. */
export function fileReadSectionsBytes(bytes: Uint8Array, options: XrdpIniReadOptions = {}): Uint8Array[] | null {
  const s = open(bytes, options);
  if (!s) return null;
  const names: Uint8Array[] = [];
  for (let text = fileReadIniLine(s, FILE_MAX_LINE_BYTES); text !== null; text = fileReadIniLine(s, FILE_MAX_LINE_BYTES)) {
    const name = lineLookupForSectionName(text, FILE_MAX_LINE_BYTES);
    if (name !== null) names.push(name);
  }
  return names;
}

export interface RawEntry {
  name: Uint8Array;
  value: Uint8Array;
}

/** l_file_read_section: the entries of the first section called `section`; null when not found. */
export function fileReadSectionBytes(
  bytes: Uint8Array,
  section: Uint8Array,
  options: XrdpIniReadOptions = {},
): RawEntry[] | null {
  const s = open(bytes, options);
  if (!s) return null;
  const env = options.env ?? {};
  for (let text = fileReadIniLine(s, FILE_MAX_LINE_BYTES); text !== null; text = fileReadIniLine(s, FILE_MAX_LINE_BYTES)) {
    const header = lineLookupForSectionName(text, FILE_MAX_LINE_BYTES);
    if (header === null || !asciiCaseEqual(header, section)) continue;
    const entries: RawEntry[] = [];
    for (let line = fileReadIniLine(s, FILE_MAX_LINE_BYTES); line !== null; line = fileReadIniLine(s, FILE_MAX_LINE_BYTES)) {
      if (lineLookupForSectionName(line, FILE_MAX_LINE_BYTES) !== null) break;
      if (line.length === 0) continue;
      const { name, value } = fileSplitNameValue(line);
      const expanded = value[0] === DOLLAR ? (gGetenv(value.slice(1), env) ?? new Uint8Array(0)) : value;
      entries.push({ name, value: expanded });
    }
    return entries;
  }
  return null;
}

const lossy = new TextDecoder('utf-8');
/** UTF-8 bytes of a string, as our renderer's files are written. */
export const utf8Encode = (s: string): Uint8Array => new TextEncoder().encode(s);

export type IniEntries = [name: string, value: string][];

/** What xrdp sees in a file: its headers in order, and each distinct section's entries. */
export interface ParsedXrdpIni {
  /** Every header in file order, duplicates included (file_read_sections). */
  sectionOrder: string[];
  /** For each distinct name (first spelling), what file_read_section returns for it. */
  sections: Map<string, IniEntries>;
}

/**
 * Reads a file the way xrdp does: the header list, then file_read_section for each name, as
 * xrdp does for session sections. Bytes are decoded as UTF-8 (lossily) for comparison.
 */
export function readXrdpIni(file: string | Uint8Array, options: XrdpIniReadOptions = {}): ParsedXrdpIni {
  const bytes = typeof file === 'string' ? utf8Encode(file) : file;
  const names = fileReadSectionsBytes(bytes, options) ?? [];
  const sections = new Map<string, IniEntries>();
  const seen = new Set<string>();
  for (const name of names) {
    const folded = Array.from(name, asciiFold).join(',');
    if (seen.has(folded)) continue;
    seen.add(folded);
    const entries = fileReadSectionBytes(bytes, name, options) ?? [];
    sections.set(
      lossy.decode(name),
      entries.map((e) => [lossy.decode(e.name), lossy.decode(e.value)]),
    );
  }
  return { sectionOrder: names.map((n) => lossy.decode(n)), sections };
}

/** Raw per-name results, in the shape the libcommon oracle prints (for differential tests). */
export function readXrdpIniRaw(bytes: Uint8Array, options: XrdpIniReadOptions = {}) {
  const names = fileReadSectionsBytes(bytes, options);
  return {
    ok: names !== null,
    sections: (names ?? []).map((name) => ({ name, entries: fileReadSectionBytes(bytes, name, options) })),
  };
}
