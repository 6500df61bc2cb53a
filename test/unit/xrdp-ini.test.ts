import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/domain/shared/errors.js';
import {
  type IniDocument,
  type InstanceIniInput,
  instanceXrdpIniDocument,
  renderInstanceXrdpIni,
  renderSesmanIni,
  serializeIni,
  sesmanIniDocument,
} from '../../src/domain/xrdp/ini-render.js';
import { UnsafeIniValueError } from '../../src/domain/xrdp/ini-value.js';
import { DEFAULT_XRDP_CONFIG, type XrdpConfig } from '../../src/domain/xrdp/xrdp-config.js';
import { applyXrdpConfigUpdate } from '../../src/domain/xrdp/xrdp-config-input.js';
import { allowedPath, instanceInput, sesmanOptions, validXrdpConfig } from '../support/xrdp-arbitraries.js';
import { type ParsedXrdpIni, readXrdpIni } from '../support/xrdp-ini-reader.js';

const RUNS = 2000;
const ENV = { JWT_SECRET: 'the-jwt-secret-from-the-environment', HOME: '/root' };

const SAMPLE: InstanceIniInput = {
  port: 33890,
  loopbackOnly: true,
  certificatePath: '/var/lib/rdp/servers/a/cert.pem',
  keyPath: '/var/lib/rdp/servers/a/key.pem',
  logFile: '/var/lib/rdp/servers/a/xrdp.log',
  sesmanAddress: '127.0.0.1',
  configuration: {
    desktop: 'xfce',
    resolution: '1920x1080',
    colorDepth: 24,
    audio: true,
    clipboard: true,
    driveRedirection: false,
    printerRedirection: false,
    maxSessions: 10,
  },
  config: DEFAULT_XRDP_CONFIG,
};
const SESMAN = { listenAddress: '127.0.0.2', logFile: '/var/log/xrdp/xrdp-sesman.log' };

/** The file xrdp would read if it read exactly what the document says. */
function intended(doc: IniDocument): ParsedXrdpIni {
  return {
    sectionOrder: doc.map((s) => s.name),
    sections: new Map(doc.map((s) => [s.name, s.entries.map(([k, v]) => [k, v] as [string, string])])),
  };
}

const keySet = (parsed: ParsedXrdpIni): string[] =>
  [...parsed.sections].flatMap(([section, entries]) => entries.map(([k]) => `${section}.${k}`)).sort();

/** The same value with every object's keys in reverse order. */
function reverseKeys<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  return Object.fromEntries(
    Object.entries(value)
      .reverse()
      .map(([k, v]) => [k, reverseKeys(v)]),
  ) as T;
}

const withCertificate = (certificatePath: string): InstanceIniInput => ({ ...SAMPLE, certificatePath });

describe("the xrdp INI reader port (xrdp 0.9.21's common/file.c)", () => {
  it('ends a line at a bare CR as at LF, and a run of line ends is one', () => {
    const parsed = readXrdpIni('[A]\r\r\na=1\rb=2\n\n\nc=3');
    expect(parsed.sections.get('A')).toEqual([
      ['a', '1'],
      ['b', '2'],
      ['c', '3'],
    ]);
  });

  it('cuts a line at # or ; with no escape', () => {
    expect(readXrdpIni('[A]\na=x#y\nb=x;y\nc="x;y"\n').sections.get('A')).toEqual([
      ['a', 'x'],
      ['b', 'x'],
      ['c', '"x'],
    ]);
  });

  it('takes a line with [name] anywhere as a header, and reads only the first section of a name', () => {
    const parsed = readXrdpIni('[A]\na=1\nx[B]y=2\nb=3\n[b]\nc=4\n');
    expect(parsed.sectionOrder).toEqual(['A', 'B', 'b']);
    expect(parsed.sections.get('A')).toEqual([['a', '1']]);
    expect(parsed.sections.get('B')).toEqual([['b', '3']]);
    expect(parsed.sections.has('b')).toBe(false);
  });

  it('replaces a value starting with $ by the environment variable, or by nothing', () => {
    const parsed = readXrdpIni('[A]\na=$JWT_SECRET\nb=$NOT_SET\nc=x$HOME\nd= $HOME\n', { env: ENV });
    expect(parsed.sections.get('A')).toEqual([
      ['a', ENV.JWT_SECRET],
      ['b', ''],
      ['c', 'x$HOME'],
      ['d', '/root'],
    ]);
  });

  it('splits at the first = and trims spaces and control characters from name and value', () => {
    expect(readXrdpIni('[A]\n a \t= b=c \x01\nnovalue\n').sections.get('A')).toEqual([
      ['a', 'b=c'],
      ['novalue', ''],
    ]);
  });

  it('ends a value at NUL', () => {
    expect(readXrdpIni('[A]\na=/etc\0/evil\nb=2\n').sections.get('A')).toEqual([
      ['a', '/etc'],
      ['b', '2'],
    ]);
  });

  it('stops reading the file at a line of 2048 bytes, and reads one of 2047', () => {
    const ok = readXrdpIni(`[A]\na=${'x'.repeat(2045)}\nb=2\n`);
    expect(ok.sections.get('A')).toEqual([
      ['a', 'x'.repeat(2045)],
      ['b', '2'],
    ]);
    const cut = readXrdpIni(`[A]\nz=0\na=${'x'.repeat(2046)}\nb=2\n[B]\nc=3\n`);
    expect(cut.sections.get('A')).toEqual([['z', '0']]);
    expect(cut.sectionOrder).toEqual(['A']);
  });

  it('matches section names ignoring ASCII case', () => {
    const parsed = readXrdpIni('[Globals]\nport=1\n');
    expect(parsed.sections.get('Globals')).toEqual([['port', '1']]);
  });
});

describe('rendering allowed values: what xrdp reads is exactly what was meant', () => {
  const template = keySet(intended(instanceXrdpIniDocument(SAMPLE)));
  const sesmanTemplate = keySet(intended(sesmanIniDocument(DEFAULT_XRDP_CONFIG, SESMAN)));

  it(`instance xrdp.ini: ${RUNS} random valid inputs read back exactly, with the template's sections and keys`, () => {
    fc.assert(
      fc.property(instanceInput, (input) => {
        const parsed = readXrdpIni(renderInstanceXrdpIni(input), { env: ENV });
        const want = intended(instanceXrdpIniDocument(input));
        expect(parsed).toEqual(want);
        expect(keySet(parsed)).toEqual(template);
      }),
      { numRuns: RUNS },
    );
  });

  it(`sesman.ini: ${RUNS} random valid configs read back exactly, repeated param= keys in order`, () => {
    fc.assert(
      fc.property(validXrdpConfig, sesmanOptions, (config, opts) => {
        const parsed = readXrdpIni(renderSesmanIni(config, opts), { env: ENV });
        expect(parsed).toEqual(intended(sesmanIniDocument(config, opts)));
        expect(keySet(parsed)).toEqual(sesmanTemplate);
        const sessions = new Map(parsed.sections.get('Sessions'));
        expect(sessions.get('IdleTimeLimit')).toBe(String(config.security.idleTimeout));
        expect(sessions.get('DisconnectedTimeLimit')).toBe(String(config.security.sessionTimeout));
        expect(sessions.get('MaxSessions')).toBe(String(config.global.maxConnections));
        expect(sessions.get('KillDisconnected')).toBe('false');
      }),
      { numRuns: RUNS },
    );
  });

  it(`the validator accepts every generated config (${RUNS} runs) and returns it unchanged`, () => {
    fc.assert(
      fc.property(validXrdpConfig, (generated) => {
        // Fields no xrdp key carries only take their current value (changing them is refused).
        const d = DEFAULT_XRDP_CONFIG;
        const config: XrdpConfig = {
          global: { ...generated.global, port: d.global.port },
          security: { ...generated.security, authentication: d.security.authentication },
          performance: {
            ...generated.performance,
            glyphCache: d.performance.glyphCache,
            maxBitmapCacheSize: d.performance.maxBitmapCacheSize,
          },
        };
        expect(applyXrdpConfigUpdate(DEFAULT_XRDP_CONFIG, config)).toEqual(config);
      }),
      { numRuns: RUNS },
    );
  });

  it(`the certificate path reaches xrdp unchanged for ${RUNS} random allowed paths`, () => {
    fc.assert(
      fc.property(allowedPath, (path) => {
        const config = applyXrdpConfigUpdate(DEFAULT_XRDP_CONFIG, { global: { certificatePath: path, keyPath: path } });
        const parsed = readXrdpIni(renderInstanceXrdpIni({ ...SAMPLE, certificatePath: path, keyPath: path, config }));
        const globals = new Map(parsed.sections.get('Globals'));
        expect(globals.get('certificate')).toBe(path);
        expect(globals.get('key_file')).toBe(path);
      }),
      { numRuns: RUNS },
    );
  });

  it('is deterministic: the same input gives the same bytes, whatever the key order of the input objects', () => {
    fc.assert(
      fc.property(instanceInput, validXrdpConfig, sesmanOptions, (input, config, opts) => {
        expect(renderInstanceXrdpIni(structuredClone(input))).toBe(renderInstanceXrdpIni(input));
        expect(renderInstanceXrdpIni(reverseKeys(input))).toBe(renderInstanceXrdpIni(input));
        expect(renderSesmanIni(reverseKeys(config), reverseKeys(opts))).toBe(renderSesmanIni(config, opts));
      }),
      { numRuns: 200 },
    );
  });

  it('renders the default sesman.ini byte for byte', () => {
    expect(renderSesmanIni(DEFAULT_XRDP_CONFIG, SESMAN)).toBe(
      [
        '[Globals]',
        'ListenAddress=127.0.0.2',
        'ListenPort=3350',
        'EnableUserWindowManager=true',
        'UserWindowManager=startwm.sh',
        'DefaultWindowManager=startwm.sh',
        'ReconnectScript=reconnectwm.sh',
        '',
        '[Security]',
        'AllowRootLogin=false',
        'MaxLoginRetry=4',
        'AlwaysGroupCheck=false',
        '',
        '[Sessions]',
        'X11DisplayOffset=10',
        'MaxSessions=100',
        'KillDisconnected=false',
        'DisconnectedTimeLimit=3600',
        'IdleTimeLimit=1800',
        'Policy=Default',
        '',
        '[Logging]',
        'LogFile=/var/log/xrdp/xrdp-sesman.log',
        'LogLevel=INFO',
        'EnableSyslog=false',
        '',
        '[Xvnc]',
        'param=Xvnc',
        'param=-bs',
        'param=-nolisten',
        'param=tcp',
        'param=-interface',
        'param=127.0.0.2',
        'param=-dpi',
        'param=96',
        '',
        '[Chansrv]',
        'FuseMountName=thinclient_drives',
        '',
      ].join('\n'),
    );
  });
});

/** [label, payload, whether xrdp's reader would have read something else than meant]. */
const PAYLOADS: [string, string, boolean][] = [
  ['a bare CR', '/etc/xrdp/cert.pem\rsecurity_layer=rdp', true],
  ['LF and a new [Globals] section', 'a\n[Globals]\nport=1', true],
  ['a # comment', 'pa#ss', true],
  ['a ; comment', '/etc/xrdp/cert.pem;x', true],
  ['a section header inside the value', 'x[Xorg]y', true],
  ['an environment reference', '$JWT_SECRET', true],
  ['a 3,000-byte value', `/${'a'.repeat(2999)}`, true],
  ['NUL', '/etc/xrdp/cert.pem\0.evil', true],
  ['surrounding whitespace', ' /etc/xrdp/cert.pem', true],
  // xrdp's reader keeps U+202E as it is; it is refused because it makes the file lie to people.
  ['U+202E (right-to-left override)', '/etc/xrdp/\u202Emep.key', false],
  ['U+200B (zero-width space, \\p{Cf})', '/etc/xrdp/cert\u200B.pem', false],
];

describe('refused payloads', () => {
  for (const [label, payload, changesParse] of PAYLOADS) {
    describe(label, () => {
      it('is refused by the validator naming the field, in certificatePath and keyPath', () => {
        for (const field of ['certificatePath', 'keyPath'] as const) {
          let error: unknown;
          try {
            applyXrdpConfigUpdate(DEFAULT_XRDP_CONFIG, { global: { [field]: payload } });
          } catch (err) {
            error = err;
          }
          expect(error).toBeInstanceOf(ValidationError);
          expect((error as ValidationError).field).toBe(`global.${field}`);
        }
      });

      it('is refused again by the renderer (defence in depth), in every value that reaches a file', () => {
        expect(() => renderInstanceXrdpIni(withCertificate(payload))).toThrow(UnsafeIniValueError);
        expect(() => renderInstanceXrdpIni({ ...SAMPLE, keyPath: payload })).toThrow(UnsafeIniValueError);
        expect(() => renderInstanceXrdpIni({ ...SAMPLE, logFile: payload })).toThrow(UnsafeIniValueError);
        expect(() => renderInstanceXrdpIni({ ...SAMPLE, sesmanAddress: payload })).toThrow(UnsafeIniValueError);
        expect(() => renderSesmanIni(DEFAULT_XRDP_CONFIG, { ...SESMAN, listenAddress: payload })).toThrow(UnsafeIniValueError);
        expect(() => renderSesmanIni(DEFAULT_XRDP_CONFIG, { ...SESMAN, logFile: payload })).toThrow(UnsafeIniValueError);
        const config = { ...DEFAULT_XRDP_CONFIG, global: { ...DEFAULT_XRDP_CONFIG.global, certificatePath: payload } };
        expect(() => renderInstanceXrdpIni({ ...SAMPLE, config, certificatePath: payload })).toThrow(UnsafeIniValueError);
      });

      if (changesParse) {
        it('would have changed what xrdp reads had it been written unchecked', () => {
          const doc = instanceXrdpIniDocument(withCertificate(payload));
          const parsed = readXrdpIni(serializeIni(doc), { env: ENV });
          expect(parsed).not.toEqual(intended(doc));
          // And the same file with an allowed value reads back exactly.
          const clean = instanceXrdpIniDocument(withCertificate('/etc/xrdp/cert.pem'));
          expect(readXrdpIni(serializeIni(clean), { env: ENV })).toEqual(intended(clean));
        });
      } else {
        it("reads back unchanged in xrdp's reader: refused for the people who read the file, not for the parser", () => {
          const doc = instanceXrdpIniDocument(withCertificate(payload));
          expect(readXrdpIni(serializeIni(doc), { env: ENV })).toEqual(intended(doc));
        });
      }
    });
  }

  it('each injection does what it was made for when written unchecked', () => {
    const read = (payload: string) => readXrdpIni(serializeIni(instanceXrdpIniDocument(withCertificate(payload))), { env: ENV });
    const globals = (p: ParsedXrdpIni) => new Map(p.sections.get('Globals'));
    // xrdp walks the entries in order and the last one of a key wins: TLS downgraded to classic RDP.
    expect(globals(read('/etc/xrdp/cert.pem\rsecurity_layer=rdp')).get('security_layer')).toBe('rdp');
    expect(globals(read('$JWT_SECRET')).get('certificate')).toBe(ENV.JWT_SECRET);
    expect(globals(read('pa#ss')).get('certificate')).toBe('pa');
    const header = read('x[Xorg]y');
    expect(header.sectionOrder.filter((s) => s === 'Xorg')).toHaveLength(2);
    expect(new Map(header.sections.get('Xorg')).get('key_file')).toBe(SAMPLE.keyPath);
    const long = read(`/${'a'.repeat(2999)}`);
    expect(long.sectionOrder).toEqual(['Globals']);
    const section = read('a\n[Globals]\nport=1');
    expect(globals(section).get('certificate')).toBe('a');
    expect(globals(section).has('key_file')).toBe(false);
  });

  it(`the validator refuses ${RUNS} random strings with a forbidden character, and accepts none of them as paths`, () => {
    const forbidden = fc.constantFrom('\r', '\n', '#', ';', '[', ']', '\0', '\u202E', '\u2066', '\u0085', '\t', '\u200E');
    fc.assert(
      fc.property(allowedPath, forbidden, fc.nat(), (path, bad, at) => {
        const i = at % (path.length + 1);
        const payload = `${path.slice(0, i)}${bad}${path.slice(i)}`;
        expect(() => applyXrdpConfigUpdate(DEFAULT_XRDP_CONFIG, { global: { keyPath: payload } })).toThrow(ValidationError);
      }),
      { numRuns: RUNS },
    );
  });

  it('refuses relative paths, .. segments and paths over 255 bytes; accepts 255', () => {
    for (const bad of ['etc/xrdp/cert.pem', '/etc/../root/key.pem', '/..', '/a/..', `/${'a'.repeat(255)}`, '~/cert.pem']) {
      expect(() => applyXrdpConfigUpdate(DEFAULT_XRDP_CONFIG, { global: { certificatePath: bad } }), bad).toThrow(
        ValidationError,
      );
    }
    const max = `/${'a'.repeat(254)}`;
    expect(applyXrdpConfigUpdate(DEFAULT_XRDP_CONFIG, { global: { certificatePath: max } }).global.certificatePath).toBe(max);
    // The empty string is no path: it clears the setting (per-instance generated certificates).
    const set = applyXrdpConfigUpdate(DEFAULT_XRDP_CONFIG, { global: { certificatePath: max, keyPath: max } });
    expect(applyXrdpConfigUpdate(set, { global: { certificatePath: '', keyPath: '' } }).global).toMatchObject({
      certificatePath: null,
      keyPath: null,
    });
  });
});
