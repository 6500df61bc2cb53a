import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseXrdpLogLine, type XrdpLogLine } from '../../src/domain/xrdp/xrdp-log.js';
import { type XrdpSessionEvent, XrdpSessionEventTracker } from '../../src/domain/xrdp/xrdp-session-events.js';

const SERVER = 'srv-1';

function lines(name: string): XrdpLogLine[] {
  const text = readFileSync(new URL(`../fixtures/xrdp/${name}`, import.meta.url), 'utf8');
  return text
    .trimEnd()
    .split('\n')
    .map((l) => parseXrdpLogLine(l))
    .filter((l): l is XrdpLogLine => l !== null);
}

/** Feeds both recorded logs in time order (instance first within a second, as written live). */
function replay(tracker: XrdpSessionEventTracker, instance: XrdpLogLine[], sesman: XrdpLogLine[]): XrdpSessionEvent[] {
  const merged = [
    ...instance.map((line, i) => ({ line, source: 'instance' as const, order: i })),
    ...sesman.map((line, i) => ({ line, source: 'sesman' as const, order: 100_000 + i })),
  ].sort((a, b) => a.line.time.localeCompare(b.line.time) || a.order - b.order);
  return merged.flatMap(({ line, source }) =>
    source === 'instance' ? tracker.instanceLine(SERVER, line) : tracker.sesmanLine(line),
  );
}

const brief = (e: XrdpSessionEvent) => `${e.kind} ${e.user} ${e.display ?? '-'} ${e.clientAddress ?? '-'}`;

describe('XrdpSessionEventTracker on recorded xrdp 0.9.21 logs', () => {
  let instance: XrdpLogLine[];
  let sesman: XrdpLogLine[];
  beforeAll(() => {
    process.env.TZ = 'UTC';
    instance = lines('xrdp-instance-log.txt');
    sesman = lines('xrdp-sesman-log.txt');
  });

  it('reports connect, login, disconnect, reconnect, session end and a failed login, for the server of the log', () => {
    const tracker = new XrdpSessionEventTracker();
    const events = replay(tracker, instance, sesman);
    expect(events.map(brief)).toEqual([
      'CONNECTED rdpexp 10 127.0.0.1:54168',
      'LOGIN_SUCCEEDED rdpexp 10 127.0.0.1:54168',
      'DISCONNECTED rdpexp 10 127.0.0.1:54168',
      'LOGIN_SUCCEEDED rdpexp 10 127.0.0.1:43430',
      'CONNECTED rdpexp 10 127.0.0.1:43430',
      'SESSION_ENDED rdpexp 10 -',
      'LOGIN_FAILED rdpexp - 127.0.0.1:34082',
    ]);
    expect(new Set(events.map((e) => e.serverId))).toEqual(new Set([SERVER]));
    expect(events[1]?.at).toBe('2026-11-26T23:05:43.000Z'); // the `connected ok` line
  });

  it('takes `login successful` from xrdp itself, not the xrdp_wm_log_msg copy, and waits for `connected ok`', () => {
    const tracker = new XrdpSessionEventTracker();
    const upToLogin = instance.filter((l) => l.time <= '2026-11-26T23:05:42.000Z');
    expect(upToLogin.flatMap((l) => tracker.instanceLine(SERVER, l))).toEqual([]);
  });

  it('holds a sesman line until the instance log names its client address', () => {
    const tracker = new XrdpSessionEventTracker();
    const sesmanFirst = sesman.filter((l) => l.time <= '2026-11-26T23:05:42.000Z').flatMap((l) => tracker.sesmanLine(l));
    expect(sesmanFirst).toEqual([]);
    const later = instance.slice(0, 9).flatMap((l) => tracker.instanceLine(SERVER, l));
    expect(later.map(brief)).toEqual(['CONNECTED rdpexp 10 127.0.0.1:54168']);
  });

  it('drops a held sesman line that no instance claims in time (another host service, a probe)', () => {
    const tracker = new XrdpSessionEventTracker({ pendingMs: 1000 });
    for (const l of sesman.slice(0, 6)) tracker.sesmanLine(l);
    tracker.expire(Date.parse('2026-11-26T23:05:44.000Z'));
    expect(instance.slice(0, 9).flatMap((l) => tracker.instanceLine(SERVER, l))).toEqual([]);
  });

  it('reports DISCONNECTED when the xrdp process of a logged-in connection exits without a log line', () => {
    const tracker = new XrdpSessionEventTracker();
    replay(
      tracker,
      instance.filter((l) => l.pid === 26664 || l.pid === 26061),
      [],
    );
    expect(tracker.liveConnections()).toEqual([{ serverId: SERVER, pid: 26664 }]);
    const gone = tracker.connectionGone(SERVER, 26664, '2026-11-26T23:05:53.000Z');
    expect(gone.map(brief)).toEqual(['DISCONNECTED rdpexp 10 127.0.0.1:43430']);
    expect(tracker.liveConnections()).toEqual([]);
    expect(tracker.connectionGone(SERVER, 26664, '2026-11-26T23:05:54.000Z')).toEqual([]);
  });

  it('works without process ids (EnableProcessId off): one connection at a time', () => {
    const tracker = new XrdpSessionEventTracker();
    const noPid = instance.map(({ pid: _pid, ...rest }) => rest);
    const events = noPid.flatMap((l) => tracker.instanceLine(SERVER, l));
    expect(events.map((e) => e.kind)).toEqual([
      'LOGIN_SUCCEEDED',
      'DISCONNECTED',
      'LOGIN_SUCCEEDED',
      'LOGIN_FAILED',
      'DISCONNECTED',
    ]);
  });

  it('does not take a probe (no login) for a disconnect', () => {
    const tracker = new XrdpSessionEventTracker();
    const probe = [
      '[20261126-23:10:00] [INFO ] [pid:1 tid:1] Socket 12: AF_INET connection received from 127.0.0.1 port 40000',
      '[20261126-23:10:00] [ERROR] [pid:2 tid:1] SSL_read: Failure in SSL library (protocol error?)',
      '[20261126-23:10:00] [ERROR] [pid:2 tid:1] Sending [ITU T.125] DisconnectProviderUltimatum failed',
    ].map((l) => parseXrdpLogLine(l) as XrdpLogLine);
    expect(probe.flatMap((l) => tracker.instanceLine(SERVER, l))).toEqual([]);
  });

  it('keeps two servers apart on one sesman by client address and display', () => {
    const tracker = new XrdpSessionEventTracker();
    const a = parseXrdpLogLine as (l: string) => XrdpLogLine;
    const out = [
      ...tracker.instanceLine(
        'A',
        a('[20261126-23:10:00] [INFO ] [pid:10 tid:1] TLS connection established from 127.0.0.1 port 1111: TLSv1.3'),
      ),
      ...tracker.instanceLine(
        'B',
        a('[20261126-23:10:00] [INFO ] [pid:20 tid:1] TLS connection established from 127.0.0.1 port 2222: TLSv1.3'),
      ),
      ...tracker.sesmanLine(
        a(
          '[20261126-23:10:01] [INFO ] [pid:5 tid:1] Starting session: session_pid 7, display :11.0, width 1, height 1, bpp 32, client ip 127.0.0.1:2222 - socket: 12, user name bob',
        ),
      ),
      ...tracker.sesmanLine(
        a(
          '[20261126-23:10:01] [INFO ] [pid:5 tid:1] Starting session: session_pid 8, display :12.0, width 1, height 1, bpp 32, client ip 127.0.0.1:1111 - socket: 12, user name amy',
        ),
      ),
      ...tracker.sesmanLine(
        a(
          '[20261126-23:10:09] [INFO ] [pid:5 tid:1] ++ terminated session:  username bob, display :11.0, session_pid 7, ip 127.0.0.1:2222 - socket: 12',
        ),
      ),
    ];
    expect(out.map((e) => `${e.serverId} ${e.kind} ${e.user} ${e.display}`)).toEqual([
      'B CONNECTED bob 11',
      'A CONNECTED amy 12',
      'B SESSION_ENDED bob 11',
    ]);
  });

  it('stays bounded: connections that never log in are forgotten first', () => {
    const tracker = new XrdpSessionEventTracker({ maxConnections: 8 });
    for (let pid = 1; pid <= 100; pid++) {
      tracker.instanceLine(
        SERVER,
        parseXrdpLogLine(`[20261126-23:10:00] [INFO ] [pid:${pid} tid:1] Connected client computer name: x`) as XrdpLogLine,
      );
    }
    const login = (pid: number, msg: string) =>
      tracker.instanceLine(SERVER, parseXrdpLogLine(`[20261126-23:10:01] [INFO ] [pid:${pid} tid:1] ${msg}`) as XrdpLogLine);
    login(500, 'login successful for user u on display 20');
    login(500, 'connected ok');
    for (let pid = 600; pid < 700; pid++) login(pid, 'Connected client computer name: x');
    expect(tracker.liveConnections()).toEqual([{ serverId: SERVER, pid: 500 }]);
  });
});
