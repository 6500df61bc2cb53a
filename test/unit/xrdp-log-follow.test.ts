import { appendFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileXrdpLogReader, followLogLines, readRecentLines } from '../../src/adapters/xrdp/file-xrdp-log-reader.js';
import { instancePaths } from '../../src/adapters/xrdp/instance-paths.js';
import { createLogFollowLeases } from '../../src/app/agent/host-command-handler.js';
import { createEventBus } from '../../src/app/pubsub.js';
import { createRemoteHost, type HostCommands } from '../../src/app/wiring/remote-host.js';
import type { HostEventMap } from '../../src/domain/cluster/host-messages.js';
import { ValidationError } from '../../src/domain/shared/errors.js';
import type { XrdpLogLine } from '../../src/domain/xrdp/xrdp-log.js';
import { sharedFollows, type XrdpLogFollowItem } from '../../src/domain/xrdp/xrdp-log-reader.js';
import { notInSnapshot, XrdpLogService } from '../../src/domain/xrdp/xrdp-log-service.js';
import { waitFor } from '../support/net.js';
import { xrdpLogLine } from '../support/xrdp-available.js';

const at = (message: string): XrdpLogLine => ({ time: '2026-12-04T00:00:00.000Z', level: 'INFO', message });
describe('following xrdp logs', () => {
  let dir: string;
  const id = '3f1e9a52-9a55-4f55-9c1f-8a3b1d1f6a10';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'log-follow-'));
    mkdirSync(instancePaths(dir, id).dir, { recursive: true });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('sharedFollows starts one source for every listener of a key and stops it with the last', () => {
    const started: string[] = [];
    const stopped: string[] = [];
    const emits = new Map<string, (n: number) => void>();
    const follow = sharedFollows<number>((key, emit) => {
      started.push(key);
      emits.set(key, emit);
      return { ready: Promise.resolve(), stop: () => void stopped.push(key) };
    });
    const a: number[] = [];
    const b: number[] = [];
    const offA = follow('s1', (n) => a.push(n));
    const offB = follow('s1', (n) => b.push(n));
    emits.get('s1')?.(1);
    expect(started).toEqual(['s1']);
    expect([a, b]).toEqual([[1], [1]]);
    offA.stop();
    offA.stop();
    expect(stopped).toEqual([]);
    emits.get('s1')?.(2);
    expect([a, b]).toEqual([[1], [1, 2]]);
    offB.stop();
    expect(stopped).toEqual(['s1']);
    follow('s1', () => undefined);
    expect(started).toEqual(['s1', 's1']);
  });

  it('notInSnapshot drops the lines a snapshot already ends with, and only those', () => {
    expect(notInSnapshot([at('a'), at('b'), at('c')], [at('b'), at('c'), at('d')])).toEqual([at('d')]);
    expect(notInSnapshot([at('a'), at('b')], [at('c')])).toEqual([at('c')]);
    expect(notInSnapshot([], [at('a')])).toEqual([at('a')]);
    expect(notInSnapshot([at('a'), at('b')], [at('a'), at('b')])).toEqual([]);
    // The same text again later is a new line when the snapshot does not end with the run.
    expect(notInSnapshot([at('x'), at('y')], [at('x'), at('z')])).toEqual([at('x'), at('z')]);
  });

  it('a file follow hands out batches of parsed lines, continuations joined, to all listeners of one tail', async () => {
    const reader = new FileXrdpLogReader({ configPath: dir });
    const a: XrdpLogFollowItem[] = [];
    const b: XrdpLogFollowItem[] = [];
    const offA = reader.follow(id, (i) => a.push(i));
    const offB = reader.follow(id, (i) => b.push(i));
    expect(offB.ready).toBe(offA.ready);
    await offA.ready;
    appendFileSync(instancePaths(dir, id).log, `${xrdpLogLine('INFO', 'one')}\n  more of one\n${xrdpLogLine('ERROR', 'two')}\n`);
    const lines = (items: XrdpLogFollowItem[]) => items.flatMap((i) => (i.kind === 'lines' ? i.lines : []));
    await waitFor(async () => lines(a).length === 2 && lines(b).length === 2, 5000, 'the lines');
    expect(lines(a).map((l) => [l.level, l.message])).toEqual([
      ['INFO', 'one\n  more of one'],
      ['ERROR', 'two'],
    ]);
    expect(b).toEqual(a);
    offA.stop();
    offB.stop();
  });

  it('an entry split across two reads of the file comes whole: a cut line and continuation lines of the next read', async () => {
    const path = join(dir, 'split.log');
    const got: XrdpLogLine[] = [];
    const follow = followLogLines(path, (lines) => got.push(...lines), 50);
    await follow.ready;
    // First write: an entry, one continuation line and half of the next; the tail reads it
    // (within a poll interval) and holds the entry while the cut line waits for its newline.
    appendFileSync(path, `${xrdpLogLine('INFO', 'one')}\n  first of one\n  second o`);
    await new Promise((r) => setTimeout(r, 300));
    expect(got).toEqual([]);
    appendFileSync(path, `f one\n  third of one\n${xrdpLogLine('ERROR', 'two')}\n`);
    await waitFor(async () => got.length === 2, 5000, 'both entries');
    expect(got.map((l) => [l.level, l.message])).toEqual([
      ['INFO', 'one\n  first of one\n  second of one\n  third of one'],
      ['ERROR', 'two'],
    ]);
    // What reading the file backwards makes of the same lines.
    expect(await readRecentLines(path, 10, 'TRACE')).toEqual(got);
    follow.stop();
  });

  it('a read of a followed log hands out the entry its tail holds first and reads only what the tail handed out: a snapshot is never followed by its own lines', async () => {
    const reader = new FileXrdpLogReader({ configPath: dir });
    const other = '6a1e9a52-9a55-4f55-9c1f-8a3b1d1f6a11';
    mkdirSync(instancePaths(dir, other).dir, { recursive: true });
    const got: XrdpLogLine[] = [];
    const follow = reader.follow(other, (i) => {
      if (i.kind === 'lines') got.push(...i.lines);
    });
    await follow.ready;
    // Held: the start of a line waits for its newline.
    appendFileSync(instancePaths(dir, other).log, `${xrdpLogLine('INFO', 'held')}\n  more of it\n  cut`);
    await new Promise((r) => setTimeout(r, 400));
    expect(got).toEqual([]);
    const reading = reader.readRecent(other, 10, 'TRACE');
    // Handed out before the read, to the listener at once; the read goes as far as the tail has
    // handed out (not the cut line), so what it returns is what the listener got.
    expect(got.map((l) => l.message)).toEqual(['held\n  more of it']);
    expect(await reading).toEqual(got);
    // Lines written after the tail's last read are not in a read either: they come to the listener.
    appendFileSync(instancePaths(dir, other).log, `\n${xrdpLogLine('WARN', 'next')}\n`);
    expect(await reader.readRecent(other, 10, 'TRACE')).toEqual(got.slice(0, 1));
    await waitFor(async () => got.length === 3, 5000, 'the rest');
    // The cut line came after its entry was handed out: an entry of its own.
    expect(got.map((l) => l.message)).toEqual(['held\n  more of it', '  cut', 'next']);
    expect(await reader.readRecent(other, 1, 'TRACE')).toEqual(got.slice(-1));
    follow.stop();
    // Not followed: the whole file, where the cut line continues the entry before it.
    expect((await reader.readRecent(other, 10, 'TRACE')).map((l) => l.message)).toEqual(['held\n  more of it\n  cut', 'next']);
  });

  it('continuation lines that come after their entry was handed out are kept, as an entry with its time and level', async () => {
    const path = join(dir, 'late.log');
    const got: XrdpLogLine[] = [];
    const follow = followLogLines(path, (lines) => got.push(...lines), 50, { holdMs: 1 });
    await follow.ready;
    appendFileSync(path, `${xrdpLogLine('WARN', 'one')}\n  first of one\n`);
    await waitFor(async () => got.length === 1, 5000, 'the first entry');
    appendFileSync(path, `  second of one\n${xrdpLogLine('INFO', 'two')}\n`);
    await waitFor(async () => got.length === 3, 5000, 'the rest');
    expect(got.map((l) => [l.level, l.message])).toEqual([
      ['WARN', 'one\n  first of one'],
      ['WARN', '  second of one'],
      ['INFO', 'two'],
    ]);
    expect(got[1]?.time).toBe(got[0]?.time);
    follow.stop();
  });

  it("agents mode: a replica's followers share one lease; the agent tails the file and its lines come back over the bus", async () => {
    const bus = createEventBus();
    const reader = new FileXrdpLogReader({ configPath: dir });
    // The agent's side, as run-agent wires it: its events are applied by a replica, which
    // publishes them on the bus (the event applier's `xrdp.log`).
    const published: HostEventMap['xrdp.log'][] = [];
    const leases = createLogFollowLeases({ logs: reader }, (payload) => {
      published.push(payload);
      bus.publish('xrdp:log-lines', payload.serverId, payload);
    });
    const sent: { type: string; payload: unknown }[] = [];
    const commands: HostCommands = {
      send: async (_hostId, type, payload) => {
        sent.push({ type, payload });
        if (type === 'logs.follow') {
          const p = payload as { serverId: string; forMs: number };
          await leases.follow(p.serverId, p.forMs);
        }
        return null as never;
      },
    };
    const remote = createRemoteHost({
      commands,
      hostOfServer: async () => 'host-b',
      defaultHostId: 'host-a',
      xrdpConfig: { current: async () => ({}) as never },
      events: bus,
    });
    const a: XrdpLogFollowItem[] = [];
    const b: XrdpLogFollowItem[] = [];
    const offA = remote.logs.follow(id, (i) => a.push(i));
    const offB = remote.logs.follow(id, (i) => b.push(i));
    // Ready once the agent's tail is positioned.
    await offA.ready;
    expect(sent).toEqual([{ type: 'logs.follow', payload: { serverId: id, forMs: 30_000 } }]);
    appendFileSync(instancePaths(dir, id).log, `${xrdpLogLine('WARN', 'from the agent')}\n`);
    await waitFor(async () => a.length === 1 && b.length === 1, 5000, 'the lines');
    expect(a).toEqual([{ kind: 'lines', lines: [expect.objectContaining({ level: 'WARN', message: 'from the agent' })] }]);
    expect(b).toEqual(a);
    expect(published).toHaveLength(1);
    offA.stop();
    offB.stop();
    // Refused leases change nothing.
    await expect(leases.follow('../etc', 1000)).rejects.toThrow(ValidationError);
    await expect(leases.follow(id, 0)).rejects.toThrow(ValidationError);
    await expect(leases.follow(id, 120_001)).rejects.toThrow(ValidationError);
    // A lease that runs out stops the agent's tail: nothing more is published.
    await leases.follow(id, 50);
    await new Promise((r) => setTimeout(r, 400));
    appendFileSync(instancePaths(dir, id).log, `${xrdpLogLine('WARN', 'after the lease')}\n`);
    await new Promise((r) => setTimeout(r, 600));
    expect(published.map((p) => p.lines[0]?.message)).toEqual(['from the agent']);
    leases.stop();
  });

  it('XrdpLogService.follow: SNAPSHOT then LINES at its level; a subscriber that leaves while waiting stops following at once', async () => {
    const file = new FileXrdpLogReader({ configPath: dir });
    let active = 0;
    const reader = {
      readRecent: file.readRecent.bind(file),
      follow: (serverId: string, listener: (item: XrdpLogFollowItem) => void) => {
        active++;
        const off = file.follow(serverId, listener);
        return {
          ready: off.ready,
          stop: () => {
            active--;
            off.stop();
          },
        };
      },
    };
    const service = new XrdpLogService(reader, createEventBus());
    expect(() => service.follow(id, -1, 'TRACE', async () => true)).toThrow(ValidationError);
    const feed = service.follow(id, 1, 'WARN', async () => true);
    const first = await feed.next();
    expect(first.value).toMatchObject({ kind: 'SNAPSHOT', lines: [expect.objectContaining({ level: 'WARN' })] });
    expect(first.value?.lines).toHaveLength(1);
    const pending = feed.next();
    appendFileSync(instancePaths(dir, id).log, `${xrdpLogLine('INFO', 'not at WARN')}\n${xrdpLogLine('ERROR', 'at WARN')}\n`);
    expect((await pending).value).toMatchObject({ kind: 'LINES', lines: [expect.objectContaining({ message: 'at WARN' })] });
    expect(active).toBe(1);
    const waiting = feed.next();
    await feed.return?.();
    expect(active).toBe(0);
    expect(await waiting).toEqual({ done: true, value: undefined });
  });
});
