import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  instanceXrdpIniDocument,
  renderInstanceXrdpIni,
  renderSesmanIni,
  serializeIni,
} from '../../src/domain/xrdp/ini-render.js';
import { instanceInput, sesmanOptions, validXrdpConfig } from '../support/xrdp-arbitraries.js';
import { readXrdpIniRaw, utf8Encode } from '../support/xrdp-ini-reader.js';
import { buildLibcommonOracle, type OracleResult, toHex } from '../support/xrdp-libcommon-oracle.js';

const oracle = buildLibcommonOracle();
const available = typeof oracle !== 'string';
if (!available) console.warn(`SKIPPED the xrdp INI reader port against libcommon.so: ${oracle}`);

const ENV = { JWT_SECRET: 'sekrit', HOME: '/root', EMPTY: '' };

/** What the port reads, in the oracle's shape. */
function port(bytes: Uint8Array): OracleResult {
  const raw = readXrdpIniRaw(bytes, { env: ENV });
  return {
    ok: raw.ok,
    sections: raw.sections.map((s) => ({
      name: toHex(s.name),
      entries: s.entries ? s.entries.map((e) => [toHex(e.name), toHex(e.value)] as [string, string]) : null,
    })),
  };
}

const bytesOf = (s: string) => utf8Encode(s);

/** Pieces that exercise every rule of the reader, and bytes that are not UTF-8. */
const piece = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('[', ']', '#', ';', '=', '$', ' ', '\t', '\r', '\n', '\r\n', '\0').map(bytesOf) },
  {
    weight: 6,
    arbitrary: fc
      .constantFrom('a', 'B', 'port', 'Globals', 'globals', 'Xorg', 'JWT_SECRET', 'HOME', 'EMPTY', '3389', '\x01', '\x1f')
      .map(bytesOf),
  },
  { weight: 2, arbitrary: fc.constantFrom('é', '\u202E', '\u00A0', '\u3000', '😀').map(bytesOf) },
  { weight: 1, arbitrary: fc.constantFrom(Uint8Array.of(0xff), Uint8Array.of(0xc3), Uint8Array.of(0x80), Uint8Array.of(0x7f)) },
  { weight: 1, arbitrary: fc.integer({ min: 2030, max: 2060 }).map((n) => bytesOf('x'.repeat(n))) },
);

const randomFile = fc.array(piece, { minLength: 0, maxLength: 60 }).map((parts) => Buffer.concat(parts));

/** Lines shaped like INI, so sections and keys are common rather than rare. */
const iniLike = fc
  .array(
    fc.oneof(
      fc
        .tuple(fc.constantFrom('', ' ', 'x'), fc.constantFrom('Globals', 'Xorg', 'a', 'A'), fc.constantFrom('', ' ', 'y'))
        .map(([pre, name, post]) => `${pre}[${name}]${post}`),
      fc
        .tuple(fc.constantFrom('port', 'a', ' b ', ''), fc.constantFrom('=', ' = ', ''), fc.string({ maxLength: 12 }))
        .map(([k, eq, v]) => `${k}${eq}${v}`),
      fc.constantFrom('$JWT_SECRET', 'x=$HOME', 'y=$NOPE', 'z=$EMPTY', 'w=$', 'c=a#b', 'd=a;b'),
    ),
    { maxLength: 20 },
  )
  .chain((lines) => fc.constantFrom('\n', '\r', '\r\n', '\n\n').map((end) => bytesOf(lines.join(end))));

describe.skipIf(!available)("the INI reader port reads what xrdp 0.9.21's libcommon.so reads", () => {
  afterAll(() => {
    if (typeof oracle !== 'string') oracle.dispose();
  });

  const compare = (files: Uint8Array[]) => {
    if (typeof oracle === 'string') return;
    const real = oracle.read(files, ENV);
    expect(real).toHaveLength(files.length);
    files.forEach((file, i) => {
      expect(port(file), `file ${i}: ${JSON.stringify(Buffer.from(file).toString('latin1'))}`).toEqual(real[i]);
    });
  };

  it('agrees on 1,200 random byte files (line ends, comments, headers, $, NUL, long lines, bad UTF-8)', () => {
    compare(fc.sample(randomFile, { numRuns: 1200, seed: 42 }));
  });

  it('agrees on 1,200 random INI-shaped files', () => {
    compare(fc.sample(iniLike, { numRuns: 1200, seed: 7 }));
  });

  it('agrees on rendered xrdp.ini and sesman.ini files of random valid configurations', () => {
    const instances = fc.sample(instanceInput, { numRuns: 150, seed: 3 }).map((i) => bytesOf(renderInstanceXrdpIni(i)));
    const sesman = fc
      .sample(fc.tuple(validXrdpConfig, sesmanOptions), { numRuns: 150, seed: 4 })
      .map(([c, o]) => bytesOf(renderSesmanIni(c, o)));
    compare([...instances, ...sesman]);
  });

  it('agrees on files carrying each injection payload, written unchecked', () => {
    const sample = fc.sample(instanceInput, { numRuns: 1, seed: 5 })[0];
    if (!sample) throw new Error('no sample');
    const payloads = [
      '/etc/xrdp/cert.pem\rsecurity_layer=rdp',
      'a\n[Globals]\nport=1',
      'pa#ss',
      'x[Xorg]y',
      '$JWT_SECRET',
      `/${'a'.repeat(2999)}`,
      '/etc/xrdp/\u202Emep.key',
      '/etc/xrdp/cert.pem\0.evil',
    ];
    compare(payloads.map((p) => bytesOf(serializeIni(instanceXrdpIniDocument({ ...sample, certificatePath: p })))));
  });

  it('agrees on the edge cases: empty file, no line end, exactly 2047 and 2048 bytes of line', () => {
    compare(
      ['', '[A]', '[A]\na=1', `[A]\n${'x'.repeat(2047)}\nb=1`, `[A]\n${'x'.repeat(2048)}\nb=1`, '[A]\n#only\n;comment\n'].map(
        bytesOf,
      ),
    );
  });
});
