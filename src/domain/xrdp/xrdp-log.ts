/**
 * xrdp's log format (0.9.21): `[YYYYMMDD-HH:MM:SS] [LEVEL] message`, the level padded to five
 * characters (`[INFO ]`, `[WARN ]`). With `EnableProcessId=true` the message starts with
 * `[pid:N tid:M] `; the pid tells apart the per-connection children that share one file.
 */

/** Most severe first, as xrdp numbers them (CORE is "always"). */
export const XRDP_LOG_LEVELS = ['CORE', 'ERROR', 'WARN', 'INFO', 'DEBUG', 'TRACE'] as const;
export type XrdpLogLevel = (typeof XRDP_LOG_LEVELS)[number];

export interface XrdpLogLine {
  /** ISO-8601 UTC; xrdp writes the machine's local time with one-second resolution. */
  time: string;
  level: XrdpLogLevel;
  message: string;
  /** The writing process, when the log has `EnableProcessId=true`. */
  pid?: number;
}

const LINE = /^\[(\d{4})(\d{2})(\d{2})-(\d{2}):(\d{2}):(\d{2})\] \[(CORE|ERROR|WARN|INFO|DEBUG|TRACE) ?\] ?(.*)$/;
const PID_PREFIX = /^\[pid:(\d+) tid:\d+\] ?/;

/** Parses one line; null when it is not an xrdp log line (or the date is not a real one). */
export function parseXrdpLogLine(line: string): XrdpLogLine | null {
  const m = LINE.exec(line.endsWith('\r') ? line.slice(0, -1) : line);
  if (!m) return null;
  const n = (i: number) => Number(m[i]);
  const date = new Date(n(1), n(2) - 1, n(3), n(4), n(5), n(6));
  // Date rolls 20260231 over to March; refuse it rather than report a day that never was.
  if (Number.isNaN(date.getTime()) || date.getDate() !== n(3) || date.getMonth() !== n(2) - 1) return null;
  const level = m[7] as XrdpLogLevel;
  const rest = m[8] ?? '';
  const pid = PID_PREFIX.exec(rest);
  return {
    time: date.toISOString(),
    level,
    message: pid ? rest.slice(pid[0].length) : rest,
    ...(pid ? { pid: Number(pid[1]) } : {}),
  };
}

/** Whether `level` is `min` or more severe. */
export function isAtLeast(level: XrdpLogLevel, min: XrdpLogLevel): boolean {
  return XRDP_LOG_LEVELS.indexOf(level) <= XRDP_LOG_LEVELS.indexOf(min);
}

/**
 * An entry whose message goes on over the lines after it that are not xrdp lines (xrdp writes a
 * multi-line message as one entry): `continuation` in file order, joined to the message with
 * newlines, empty lines at its end dropped. Both reading a log backwards and following it forwards
 * assemble entries with this.
 */
export function withContinuation(entry: XrdpLogLine, continuation: readonly string[]): XrdpLogLine {
  if (continuation.length === 0) return entry;
  const lines = continuation.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  return { ...entry, message: [entry.message, ...lines].join('\n').replace(/\n+$/, '') };
}

/**
 * Assembles a log's entries from its lines in file order. A line that is not an xrdp line
 * continues the entry before it (one before any entry is dropped). The last entry stays open, as
 * more of it may still be written, until the next entry starts or `close()` ends it; lines that
 * continue an entry after it was closed become an entry of their own with its time, level and pid
 * (the text is kept, only split in two).
 */
export class XrdpLogEntryAssembler {
  private entry: XrdpLogLine | null = null;
  private continuation: string[] = [];
  private closed: XrdpLogLine | null = null;

  /** Takes the next line (without its newline); returns the entry it completes, if any. */
  push(raw: string): XrdpLogLine | null {
    const parsed = parseXrdpLogLine(raw);
    if (parsed) {
      const done = this.close();
      this.entry = parsed;
      return done;
    }
    if (this.entry) this.continuation.push(raw);
    else if (this.closed && raw.replace(/\r$/, '') !== '') {
      const { time, level, pid } = this.closed;
      this.entry = { time, level, message: raw.replace(/\r$/, ''), ...(pid !== undefined ? { pid } : {}) };
    }
    return null;
  }

  /** Whether an entry is open (its end not seen yet). */
  get open(): boolean {
    return this.entry !== null;
  }

  /** Ends the open entry and returns it (null when none is open). */
  close(): XrdpLogLine | null {
    const entry = this.entry;
    if (!entry) return null;
    const done = withContinuation(entry, this.continuation);
    this.closed = done;
    this.entry = null;
    this.continuation = [];
    return done;
  }
}
