import type { ServerConfiguration } from '../servers/server.js';
import { INI_NAME, iniPathProblem, iniValueProblem, MAX_INI_LINE_BYTES, UnsafeIniValueError, utf8Bytes } from './ini-value.js';
import type { XrdpConfig } from './xrdp-config.js';

/** What one server's xrdp instance is rendered from. Paths are absolute. */
export interface InstanceIniInput {
  port: number;
  /** Bind 127.0.0.1 only (tests, single-host setups) instead of every address. */
  loopbackOnly: boolean;
  certificatePath: string;
  keyPath: string;
  logFile: string;
  /** Address of the host's sesman, as the session section's ip=. */
  sesmanAddress: string;
  configuration: ServerConfiguration;
  config: XrdpConfig;
}

/** Where the host's sesman listens and logs. */
export interface SesmanIniOptions {
  /** `ListenAddress=`; its port stays 3350, the one xrdp reads from /etc/xrdp/sesman.ini. */
  listenAddress: string;
  /** Absolute path of sesman's log. */
  logFile: string;
}

export type IniEntry = readonly [key: string, value: string];
export interface IniSection {
  name: string;
  entries: readonly IniEntry[];
}
/** An INI file as sections in order; a key may repeat within a section (sesman's `param=`). */
export type IniDocument = readonly IniSection[];

/** xrdp reads at most 32 KiB of a file it opens by descriptor (file_read_section). */
export const MAX_INI_FILE_BYTES = 32 * 1024;
/** The one port sesman may use: xrdp takes it from the fixed /etc/xrdp/sesman.ini. */
export const SESMAN_PORT = 3350;

const yes = (b: boolean) => (b ? 'true' : 'false');

function section(name: string, entries: [string, string | number][]): IniSection {
  return { name, entries: entries.map(([k, v]) => [k, String(v)] as const) };
}

/** The bytes of a document, unchecked. Only renderIni should be used to write files. */
export function serializeIni(doc: IniDocument): string {
  const blocks = doc.map((s) => [`[${s.name}]`, ...s.entries.map(([k, v]) => `${k}=${v}`)].join('\n'));
  return `${blocks.join('\n\n')}\n`;
}

/**
 * Serializes a document after asserting, as defence in depth behind input validation, that
 * every name and value passes the allow-list, that no line reaches xrdp's 2,048-byte limit, that
 * no section repeats (xrdp reads only the first) and that the file fits xrdp's 32 KiB read.
 * Throws UnsafeIniValueError otherwise.
 */
export function renderIni(doc: IniDocument): string {
  const seen = new Set<string>();
  for (const s of doc) {
    if (!INI_NAME.test(s.name)) throw new UnsafeIniValueError(`section ${JSON.stringify(s.name)}`, 'is not a plain name');
    const folded = s.name.toLowerCase();
    if (seen.has(folded)) throw new UnsafeIniValueError(`section ${s.name}`, 'appears twice');
    seen.add(folded);
    for (const [key, value] of s.entries) {
      if (!INI_NAME.test(key)) throw new UnsafeIniValueError(`[${s.name}] key ${JSON.stringify(key)}`, 'is not a plain name');
      const problem = iniValueProblem(value);
      if (problem !== null) throw new UnsafeIniValueError(`[${s.name}] ${key}`, problem);
      if (utf8Bytes(`${key}=${value}`) > MAX_INI_LINE_BYTES) {
        throw new UnsafeIniValueError(`[${s.name}] ${key}`, `the line must be at most ${MAX_INI_LINE_BYTES} bytes`);
      }
    }
  }
  const text = serializeIni(doc);
  if (utf8Bytes(text) > MAX_INI_FILE_BYTES) throw new UnsafeIniValueError('file', `must be at most ${MAX_INI_FILE_BYTES} bytes`);
  return text;
}

function checkPath(where: string, path: string): void {
  const problem = iniPathProblem(path);
  if (problem !== null) throw new UnsafeIniValueError(where, problem);
}

function checkAddress(where: string, address: string): void {
  if (!/^[A-Za-z0-9.:-]{1,253}$/.test(address)) {
    throw new UnsafeIniValueError(where, 'must be an IP address or host name');
  }
}

/** The sections and keys of an instance's xrdp.ini, before any check. */
export function instanceXrdpIniDocument(input: InstanceIniInput): IniDocument {
  const { config, configuration } = input;
  return [
    section('Globals', [
      ['ini_version', 1],
      ['fork', 'true'],
      ['port', input.loopbackOnly ? `tcp://.:${input.port}` : String(input.port)],
      ['use_vsock', 'false'],
      ['tcp_nodelay', 'true'],
      ['tcp_keepalive', 'true'],
      ['security_layer', config.global.useTls ? 'tls' : 'negotiate'],
      ['crypt_level', config.security.encryptionLevel],
      ['certificate', input.certificatePath],
      ['key_file', input.keyPath],
      ['ssl_protocols', 'TLSv1.2, TLSv1.3'],
      ['autorun', 'Xvnc'],
      ['allow_channels', 'true'],
      ['allow_multimon', 'true'],
      ['bitmap_cache', yes(config.performance.bitmapCache)],
      ['bitmap_compression', yes(config.performance.compression)],
      ['bulk_compression', yes(config.performance.compression)],
      ['max_bpp', configuration.colorDepth],
      ['new_cursors', 'true'],
    ]),
    section('Logging', [
      ['LogFile', input.logFile],
      // Logins and disconnects are read from INFO lines, told apart by process id: never quieter.
      ['LogLevel', config.global.logLevel === 'DEBUG' ? 'DEBUG' : 'INFO'],
      ['EnableSyslog', 'false'],
      ['EnableConsole', 'false'],
      ['EnableProcessId', 'true'],
    ]),
    section('Channels', [
      ['rdpdr', yes(configuration.driveRedirection || configuration.printerRedirection)],
      ['rdpsnd', yes(configuration.audio)],
      ['drdynvc', 'true'],
      ['cliprdr', yes(configuration.clipboard)],
      ['rail', 'false'],
      ['xrdpvr', 'false'],
    ]),
    section('Xvnc', [
      ['name', 'Xvnc'],
      ['lib', 'libvnc.so'],
      ['username', 'ask'],
      ['password', 'ask'],
      ['ip', input.sesmanAddress],
      ['port', -1],
    ]),
    section('Xorg', [
      ['name', 'Xorg'],
      ['lib', 'libxup.so'],
      ['username', 'ask'],
      ['password', 'ask'],
      ['ip', input.sesmanAddress],
      ['port', -1],
      ['code', 20],
    ]),
  ];
}

/**
 * Renders an instance's xrdp.ini. Deterministic: the same input gives the same bytes. Paths must
 * pass the path allow-list and every value the INI allow-list; UnsafeIniValueError otherwise.
 */
export function renderInstanceXrdpIni(input: InstanceIniInput): string {
  checkPath('certificate', input.certificatePath);
  checkPath('key_file', input.keyPath);
  checkPath('LogFile', input.logFile);
  checkAddress('ip', input.sesmanAddress);
  return renderIni(instanceXrdpIniDocument(input));
}

/** The sections and keys of the host sesman.ini (docs/XRDP.md, "sesman"), before any check. */
export function sesmanIniDocument(config: XrdpConfig, opts: SesmanIniOptions): IniDocument {
  return [
    section('Globals', [
      ['ListenAddress', opts.listenAddress],
      ['ListenPort', SESMAN_PORT],
      ['EnableUserWindowManager', 'true'],
      ['UserWindowManager', 'startwm.sh'],
      ['DefaultWindowManager', 'startwm.sh'],
      ['ReconnectScript', 'reconnectwm.sh'],
    ]),
    section('Security', [
      ['AllowRootLogin', 'false'],
      ['MaxLoginRetry', 4],
      ['AlwaysGroupCheck', 'false'],
    ]),
    section('Sessions', [
      ['X11DisplayOffset', 10],
      ['MaxSessions', config.global.maxConnections],
      ['KillDisconnected', 'false'],
      ['DisconnectedTimeLimit', config.security.sessionTimeout],
      ['IdleTimeLimit', config.security.idleTimeout],
      ['Policy', 'Default'],
    ]),
    section('Logging', [
      ['LogFile', opts.logFile],
      ['LogLevel', config.global.logLevel],
      ['EnableSyslog', 'false'],
    ]),
    section('Xvnc', [
      ['param', 'Xvnc'],
      ['param', '-bs'],
      ['param', '-nolisten'],
      ['param', 'tcp'],
      // Xvnc must listen where xrdp (ip= of the session section) will look for it.
      ['param', '-interface'],
      ['param', opts.listenAddress],
      ['param', '-dpi'],
      ['param', 96],
    ]),
    section('Chansrv', [['FuseMountName', 'thinclient_drives']]),
  ];
}

/** Renders the host sesman.ini. Deterministic; UnsafeIniValueError for a refused value. */
export function renderSesmanIni(config: XrdpConfig, opts: SesmanIniOptions): string {
  checkAddress('ListenAddress', opts.listenAddress);
  checkPath('LogFile', opts.logFile);
  return renderIni(sesmanIniDocument(config, opts));
}
