import { type FSWatcher, watch } from 'node:fs';
import { type FileHandle, open, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';

export interface LogTailerOptions {
  path: string;
  /**
   * Where to start: a byte offset, or 'end' for the size the file has when the tailer starts (0
   * when it does not exist yet, so that everything written after the start is seen).
   * @default 'end'
   */
  from?: number | 'end';
  /** Called with each complete line, without its newline. */
  onLine(line: string): void;
  /** Safety net for missed watch events (and the only mechanism when watching fails). @default 250 */
  pollIntervalMs?: number;
  /** A longer line is cut to this many bytes; memory per tailer stays below about twice it. @default 16384 */
  maxLineBytes?: number;
}

export interface LogTailer {
  /** Resolves after the first read: lines already in the file past `from` have been delivered. */
  readonly ready: Promise<void>;
  /** Byte offset of the next unread byte of the current file. */
  offset(): number;
  /** Whether the start of a line was read and its newline not yet (it is delivered once it comes). */
  partial(): boolean;
  /**
   * How far the current file has been handed to `onLine`: its inode and the offset after the last
   * line delivered (a partial line is not); null before the file is open.
   */
  delivered(): { ino: number; offset: number } | null;
  /** Reads now instead of waiting for a watch event or the next poll. */
  check(): Promise<void>;
  stop(): Promise<void>;
}

const CHUNK = 64 * 1024;

/**
 * Follows a log file like `tail -F`: from an offset, through truncation (reads again from 0) and
 * rotation (drains the old file, then follows the new one at the same path), and from before the
 * file exists. Watches the directory (the file may not exist, or be replaced) and polls as well.
 */
export function createLogTailer(options: LogTailerOptions): LogTailer {
  const pollIntervalMs = options.pollIntervalMs ?? 250;
  const maxLineBytes = options.maxLineBytes ?? 16 * 1024;
  let handle: FileHandle | null = null;
  let ino = -1;
  let offset = 0;
  let pendingStart: number | 'end' | null = options.from ?? 'end';
  let partial: Buffer[] = [];
  let partialBytes = 0;
  /** The current line grew past maxLineBytes: it was delivered cut; skip to its end. */
  let skipping = false;
  let stopped = false;
  let running: Promise<void> | null = null;
  let again = false;
  let watcher: FSWatcher | null = null;

  function emit(bytes: Buffer): void {
    const line = bytes.toString('utf8');
    try {
      options.onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
    } catch {
      // A listener's failure must not stop the tail.
    }
  }

  function consume(chunk: Buffer): void {
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(0x0a, start);
      const end = nl === -1 ? chunk.length : nl;
      if (!skipping) {
        const room = maxLineBytes - partialBytes;
        const piece = chunk.subarray(start, Math.min(end, start + room));
        partial.push(piece);
        partialBytes += piece.length;
        if (end - start > room) {
          emit(Buffer.concat(partial));
          partial = [];
          partialBytes = 0;
          skipping = nl === -1;
        } else if (nl !== -1) {
          emit(Buffer.concat(partial));
          partial = [];
          partialBytes = 0;
        }
      } else if (nl !== -1) {
        skipping = false;
      }
      if (nl === -1) break;
      start = nl + 1;
    }
  }

  function resetLine(): void {
    partial = [];
    partialBytes = 0;
    skipping = false;
  }

  async function drain(h: FileHandle): Promise<void> {
    const size = (await h.stat()).size;
    if (size < offset) {
      offset = 0; // truncated in place
      resetLine();
    }
    const buffer = Buffer.allocUnsafe(CHUNK);
    while (offset < size && !stopped) {
      const { bytesRead } = await h.read(buffer, 0, Math.min(CHUNK, size - offset), offset);
      if (bytesRead === 0) break;
      offset += bytesRead;
      consume(buffer.subarray(0, bytesRead));
    }
  }

  async function openCurrent(): Promise<boolean> {
    try {
      handle = await open(options.path, 'r');
    } catch {
      // Not there yet: whatever appears later is new, so read it from its start.
      if (pendingStart === 'end') pendingStart = 0;
      return false;
    }
    const s = await handle.stat();
    ino = s.ino;
    offset = pendingStart === 'end' ? s.size : pendingStart === null ? 0 : Math.min(pendingStart, s.size);
    pendingStart = null;
    resetLine();
    return true;
  }

  async function readOnce(): Promise<void> {
    for (let round = 0; round < 2 && !stopped; round++) {
      if (!handle && !(await openCurrent())) return;
      const h = handle;
      if (!h) return;
      await drain(h);
      const now = await stat(options.path).catch(() => null);
      if (now && now.ino === ino) return;
      // Rotated or removed: the old file is drained; follow whatever now has the name.
      await h.close().catch(() => undefined);
      handle = null;
      if (!now) return;
    }
  }

  function check(): Promise<void> {
    if (stopped) return Promise.resolve();
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          await readOnce();
        } while (again && !stopped);
      } catch {
        // Transient I/O errors: the next poll tries again.
      } finally {
        running = null;
      }
    })();
    return running;
  }

  function startWatching(): void {
    if (watcher || stopped) return;
    try {
      const name = basename(options.path);
      watcher = watch(dirname(options.path), { persistent: false }, (_event, file) => {
        if (file === null || file === name) void check();
      });
      watcher.on('error', () => {
        watcher?.close();
        watcher = null;
      });
    } catch {
      watcher = null; // the directory does not exist yet; the poll retries
    }
  }

  const timer = setInterval(() => {
    startWatching();
    void check();
  }, pollIntervalMs);
  timer.unref();
  startWatching();
  const ready = check();

  return {
    ready,
    offset: () => offset,
    partial: () => partialBytes > 0,
    delivered: () => (handle ? { ino, offset: offset - partialBytes } : null),
    check,
    async stop() {
      stopped = true;
      clearInterval(timer);
      watcher?.close();
      watcher = null;
      await running;
      await handle?.close().catch(() => undefined);
      handle = null;
    },
  };
}
