import { open } from 'node:fs/promises';
import {
  isAtLeast,
  parseXrdpLogLine,
  withContinuation,
  XrdpLogEntryAssembler,
  type XrdpLogLevel,
  type XrdpLogLine,
} from '../../domain/xrdp/xrdp-log.js';
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

  /** The tail of each followed log, for handing out its held entry before a read. */
  private readonly tails = new Map<string, LogFileFollow>();

  /** One tail of each followed log in this process (log-tailer: watch plus poll), whoever listens. */
  readonly follow = sharedFollows<XrdpLogFollowItem>((serverId, emit) => {
    const tail = followLogLines(instancePaths(this.options.configPath, serverId).log, (lines) => emit({ kind: 'lines', lines }));
    this.tails.set(serverId, tail);
    return {
      ready: tail.ready,
      stop: () => {
        if (this.tails.get(serverId) === tail) this.tails.delete(serverId);
        tail.stop();
      },
    };
  });

  /**
   * While the server's log is followed here, reads it up to where its tail has handed lines out,
   * after handing out the entry the tail holds (see followLogLines): a follower that takes this
   * read as its snapshot has had every entry in it already, and is sent every one after it.
   */
  async readRecent(serverId: string, last: number, minLevel: XrdpLogLevel): Promise<XrdpLogLine[]> {
    const tail = this.tails.get(serverId);
    tail?.handOut();
    const upTo = tail?.delivered() ?? undefined;
    return readRecentLines(instancePaths(this.options.configPath, serverId).log, last, minLevel, this.maxScanBytes, upTo);
  }
}

/**
 * The last `last` entries at `minLevel` or above of the log at `path`; with `upTo`, of its first
 * `upTo.offset` bytes while it is still that file (inode `upTo.ino`).
 */
export async function readRecentLines(
  path: string,
  last: number,
  minLevel: XrdpLogLevel,
  maxScanBytes = 8 * 1024 * 1024,
  upTo?: { ino: number; offset: number },
): Promise<XrdpLogLine[]> {
  if (last <= 0) return [];
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'r');
  } catch {
    return [];
  }
  try {
    const stats = await handle.stat();
    const size = upTo && stats.ino === upTo.ino ? Math.min(stats.size, upTo.offset) : stats.size;
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
          continuation.push(raw);
          continue;
        }
        const entry = withContinuation(parsed, continuation.reverse());
        continuation = [];
        if (isAtLeast(entry.level, minLevel)) found.push(entry);
      }
    }
    return found.reverse();
  } finally {
    await handle.close();
  }
}

/** A tail of one log file (followLogLines). */
export interface LogFileFollow extends XrdpLogFollow {
  /** Hands out now, to the listener before returning, the entry held for more of it (if any). */
  handOut(): void;
  /** How far the file's lines have been handed out (its inode and offset); null before it is open. */
  delivered(): { ino: number; offset: number } | null;
}

/**
 * How long an entry is held open after the last line read for it: xrdp writes a multi-line entry
 * at once, but a read may end inside it (after any line), so its continuation lines can come with
 * the next read, a few milliseconds later. The cost: the last entry of a burst is handed out this
 * much later.
 */
export const FOLLOW_ENTRY_HOLD_MS = 250;

/**
 * Follows a log from its current end (from its first line when it does not exist yet) and hands
 * out the entries written, parsed, in batches. Entries are assembled as `readRecentLines` reads
 * them (XrdpLogEntryAssembler): lines that are not xrdp lines continue the entry before them, even
 * when they come with a later read of the file. So the last entry read is held until the next one
 * starts, or until nothing more came for `holdMs` (longer while the start of a line waits for its
 * newline, at most `maxHoldMs`); a partial line is kept by the tailer until its newline comes.
 * Continuation lines that come later still are handed out as an entry of their own with the time,
 * level and pid of the one they continue (see XrdpLogEntryAssembler).
 */
export function followLogLines(
  path: string,
  onLines: (lines: XrdpLogLine[]) => void,
  pollIntervalMs = 250,
  { holdMs = FOLLOW_ENTRY_HOLD_MS, maxHoldMs = 2_000 }: { holdMs?: number; maxHoldMs?: number } = {},
): LogFileFollow {
  const assembler = new XrdpLogEntryAssembler();
  let batch: XrdpLogLine[] = [];
  let flushing = false;
  let hold: NodeJS.Timeout | null = null;
  let lastLineAt = 0;
  let stopped = false;
  const flush = () => {
    flushing = false;
    const lines = batch;
    batch = [];
    if (lines.length > 0 && !stopped) onLines(lines);
  };
  const add = (entry: XrdpLogLine | null) => {
    if (!entry) return;
    batch.push(entry);
    if (!flushing) {
      flushing = true;
      setImmediate(flush);
    }
  };
  const release = () => {
    hold = null;
    // The start of a line is waiting for its newline: it may continue the open entry.
    if (tailer.partial() && Date.now() - lastLineAt < maxHoldMs) {
      hold = setTimeout(release, holdMs);
      return;
    }
    add(assembler.close());
  };
  const tailer = createLogTailer({
    path,
    pollIntervalMs,
    onLine: (raw) => {
      lastLineAt = Date.now();
      add(assembler.push(raw));
      if (hold) clearTimeout(hold);
      hold = assembler.open && !stopped ? setTimeout(release, holdMs) : null;
    },
  });
  return {
    ready: tailer.ready,
    delivered: () => tailer.delivered(),
    handOut: () => {
      if (hold) clearTimeout(hold);
      hold = null;
      add(assembler.close());
      flush();
    },
    stop: () => {
      stopped = true;
      if (hold) clearTimeout(hold);
      hold = null;
      void tailer.stop();
    },
  };
}
