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
