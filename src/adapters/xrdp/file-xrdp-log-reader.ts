import { open } from 'node:fs/promises';
import { isAtLeast, parseXrdpLogLine, type XrdpLogLevel, type XrdpLogLine } from '../../domain/xrdp/xrdp-log.js';
import {
  sharedFollows,
  type XrdpLogFollow,
  type XrdpLogFollowItem,
  type XrdpLogReader,
} from '../../domain/xrdp/xrdp-log-reader.js';
import { instancePaths } from './instance-paths.js';
import { createLogTailer } from './log-tailer.js';

export interface FileXrdpLogReaderOptions {
  /** XRDP_CONFIG_PATH: instance logs are at `<configPath>/servers/<id>/xrdp.log`. */
  configPath: string;
  /** Most bytes read from the end of a log for one request (a filter may match little). @default 8 MiB */
  maxScanBytes?: number;
}

const CHUNK = 64 * 1024;

/**
 * Reads a log backwards in chunks until enough matching lines are found, so the cost follows the
 * answer, not the file's size. A line that is not an xrdp line (a continuation of a multi-line
 * message) is appended to the message before it.
 */
export class FileXrdpLogReader implements XrdpLogReader {
  private readonly maxScanBytes: number;

  constructor(private readonly options: FileXrdpLogReaderOptions) {
    this.maxScanBytes = options.maxScanBytes ?? 8 * 1024 * 1024;
  }

  /** One tail of each followed log in this process (log-tailer: watch plus poll), whoever listens. */
  readonly follow = sharedFollows<XrdpLogFollowItem>((serverId, emit) =>
    followLogLines(instancePaths(this.options.configPath, serverId).log, (lines) => emit({ kind: 'lines', lines })),
  );

  async readRecent(serverId: string, last: number, minLevel: XrdpLogLevel): Promise<XrdpLogLine[]> {
    return readRecentLines(instancePaths(this.options.configPath, serverId).log, last, minLevel, this.maxScanBytes);
  }
}

export async function readRecentLines(
  path: string,
  last: number,
  minLevel: XrdpLogLevel,
  maxScanBytes = 8 * 1024 * 1024,
): Promise<XrdpLogLine[]> {
  if (last <= 0) return [];
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'r');
  } catch {
    return [];
  }
  try {
    const size = (await handle.stat()).size;
    const floor = Math.max(0, size - maxScanBytes);
    const found: XrdpLogLine[] = []; // newest first
    let continuation: string[] = []; // unparsed lines after the line being assembled, newest first
    let carry = Buffer.alloc(0); // start of a line whose beginning is in an earlier chunk
    let position = size;
    while (position > floor && found.length < last) {
      const length = Math.min(CHUNK, position - floor);
      position -= length;
      const chunk = Buffer.alloc(length);
      await handle.read(chunk, 0, length, position);
      let data = Buffer.concat([chunk, carry]);
      carry = Buffer.alloc(0);
      // Bytes before the first newline may continue a line that starts further back: keep them
      // for the next (earlier) chunk. At the scan limit, that cut line is dropped instead.
      if (position > 0) {
        const nl = data.indexOf(0x0a);
        if (nl === -1) {
          if (position > floor) carry = data;
          continue;
        }
        if (position > floor) carry = data.subarray(0, nl);
        data = data.subarray(nl + 1);
      }
      const lines = data.toString('utf8').split('\n');
      for (let i = lines.length - 1; i >= 0 && found.length < last; i--) {
        const raw = lines[i] ?? '';
        if (raw === '' && continuation.length === 0) continue;
        const parsed = parseXrdpLogLine(raw);
        if (!parsed) {
          continuation.push(raw.replace(/\r$/, ''));
          continue;
        }
        if (continuation.length > 0) {
          parsed.message = [parsed.message, ...continuation.reverse()].join('\n').replace(/\n+$/, '');
          continuation = [];
        }
        if (isAtLeast(parsed.level, minLevel)) found.push(parsed);
      }
    }
    return found.reverse();
  } finally {
    await handle.close();
  }
}

/**
 * Follows a log from its current end (from its first line when it does not exist yet) and hands
 * out the lines written, parsed, in batches: what one read of the file found. A line that is not
 * an xrdp line continues the message before it in the same batch (xrdp writes a message at once);
 * one without such a line before it is dropped.
 */
export function followLogLines(path: string, onLines: (lines: XrdpLogLine[]) => void, pollIntervalMs = 250): XrdpLogFollow {
  let batch: XrdpLogLine[] = [];
  let flushing = false;
  const flush = () => {
    flushing = false;
    const lines = batch;
    batch = [];
    if (lines.length > 0) onLines(lines);
  };
  const tailer = createLogTailer({
    path,
    pollIntervalMs,
    onLine: (raw) => {
      const line = parseXrdpLogLine(raw);
      const previous = batch.at(-1);
      if (!line) {
        if (previous && raw !== '') previous.message = `${previous.message}\n${raw}`;
        return;
      }
      batch.push(line);
      if (!flushing) {
        flushing = true;
        setImmediate(flush);
      }
    },
  });
  return { ready: tailer.ready, stop: () => void tailer.stop() };
}
