import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Claim, ClaimStore } from '../../src/domain/shared/claim-store.js';

export interface ClaimStoreFixture {
  store: ClaimStore;
  cleanup(): Promise<void>;
}

const ISO_MILLIS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

const keysOf = (claims: readonly Claim[]): string[] => claims.map((c) => c.key).sort();

/** The shared contract every ClaimStore adapter must pass. */
export function claimStoreContract(name: string, makeStore: () => Promise<ClaimStoreFixture>): void {
  describe(`ClaimStore contract: ${name}`, () => {
    let store: ClaimStore;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ store, cleanup } = await makeStore());
    });

    afterEach(async () => {
      await cleanup();
    });

    describe('tryClaim', () => {
      it('claims a free key once; a second claim of it fails for another owner and for the same owner', async () => {
        expect(await store.tryClaim('port:h:33890', 'srv-1')).toBe(true);
        expect(await store.tryClaim('port:h:33890', 'srv-2')).toBe(false);
        expect(await store.tryClaim('port:h:33890', 'srv-1')).toBe(false);
        expect(await store.tryClaim('port:h:33891', 'srv-2')).toBe(true);
        expect(await store.list('port:h:')).toEqual(
          expect.arrayContaining([
            expect.objectContaining({ key: 'port:h:33890', owner: 'srv-1' }),
            expect.objectContaining({ key: 'port:h:33891', owner: 'srv-2' }),
          ]),
        );
      });

      it('records claimedAt as an ISO-8601 UTC string with milliseconds at about now', async () => {
        const before = Date.now();
        expect(await store.tryClaim('slot:servers:0', 'srv-1')).toBe(true);
        const after = Date.now();
        const [claim, ...others] = await store.list('slot:servers:');
        expect(others).toEqual([]);
        expect(claim).toEqual({ key: 'slot:servers:0', owner: 'srv-1', claimedAt: expect.stringMatching(ISO_MILLIS) });
        const at = Date.parse(claim?.claimedAt ?? '');
        expect(at).toBeGreaterThanOrEqual(before - 1000);
        expect(at).toBeLessThanOrEqual(after + 1000);
      });

      it('lets exactly one of 50 concurrent claims of one key win, and records that owner', async () => {
        const results = await Promise.all(Array.from({ length: 50 }, (_, i) => store.tryClaim('port:race:33890', `owner-${i}`)));
        const winners = results.flatMap((ok, i) => (ok ? [`owner-${i}`] : []));
        expect(winners).toHaveLength(1);
        const claims = await store.list('port:race:');
        expect(claims.map((c) => [c.key, c.owner])).toEqual([['port:race:33890', winners[0]]]);
      });

      it('grants 30 concurrent claims of 30 different keys', async () => {
        const results = await Promise.all(Array.from({ length: 30 }, (_, i) => store.tryClaim(`slot:many:${i}`, `owner-${i}`)));
        expect(results.every((ok) => ok)).toBe(true);
        expect(await store.list('slot:many:')).toHaveLength(30);
      });
    });

    describe('tryClaimMany', () => {
      it('claims free keys in one call, refuses taken ones and a key named twice, in order', async () => {
        if (!store.tryClaimMany) return;
        expect(await store.tryClaim('slot:t:1', 'earlier')).toBe(true);
        const results = await store.tryClaimMany([
          { key: 'slot:t:0', owner: 'a' },
          { key: 'slot:t:1', owner: 'b' },
          { key: 'slot:t:2', owner: 'c' },
          { key: 'slot:t:2', owner: 'd' },
          { key: 'slot:t:3', owner: 'e' },
        ]);
        expect(results).toEqual([true, false, true, false, true]);
        const owners = Object.fromEntries((await store.list('slot:t:')).map((c) => [c.key, c.owner]));
        expect(owners).toEqual({ 'slot:t:0': 'a', 'slot:t:1': 'earlier', 'slot:t:2': 'c', 'slot:t:3': 'e' });
        expect(await store.tryClaimMany([])).toEqual([]);
      });

      it('two concurrent batches over the same keys: each key won exactly once', async () => {
        if (!store.tryClaimMany) return;
        const keys = Array.from({ length: 20 }, (_, i) => `slot:m:${i}`);
        const [x, y] = await Promise.all(
          ['x', 'y'].map((owner) => store.tryClaimMany?.(keys.map((key) => ({ key, owner }))) ?? []),
        );
        const owners = new Map((await store.list('slot:m:')).map((c) => [c.key, c.owner]));
        for (const [i, key] of keys.entries()) {
          expect([x?.[i], y?.[i]].filter(Boolean)).toHaveLength(1);
          expect(owners.get(key)).toBe(x?.[i] ? 'x' : 'y');
        }
      });
    });

    describe('release', () => {
      it('releases only for the owner; a release by anyone else fails and keeps the claim', async () => {
        expect(await store.tryClaim('port:h:33890', 'srv-1')).toBe(true);
        expect(await store.release('port:h:33890', 'srv-2')).toBe(false);
        expect((await store.list('port:h:')).map((c) => c.owner)).toEqual(['srv-1']);
        expect(await store.release('port:h:33890', 'srv-1')).toBe(true);
        expect(await store.list('port:h:')).toEqual([]);
      });

      it('returns false for a second release and for a key never claimed', async () => {
        expect(await store.tryClaim('port:h:33890', 'srv-1')).toBe(true);
        expect(await store.release('port:h:33890', 'srv-1')).toBe(true);
        expect(await store.release('port:h:33890', 'srv-1')).toBe(false);
        expect(await store.release('port:h:never', 'srv-1')).toBe(false);
      });

      it('makes a released key claimable by another owner', async () => {
        expect(await store.tryClaim('port:h:33890', 'srv-1')).toBe(true);
        expect(await store.release('port:h:33890', 'srv-1')).toBe(true);
        expect(await store.tryClaim('port:h:33890', 'srv-2')).toBe(true);
        expect((await store.list('port:h:')).map((c) => c.owner)).toEqual(['srv-2']);
      });
    });

    describe('list', () => {
      beforeEach(async () => {
        for (const key of ['port:a:33890', 'port:a:33891', 'port:ab:33890', 'xport:a:1', 'slot:servers:0', 'slot:servers:1']) {
          expect(await store.tryClaim(key, `owner-of-${key}`)).toBe(true);
        }
      });

      it('returns only keys that start with the prefix', async () => {
        expect(keysOf(await store.list('port:a:'))).toEqual(['port:a:33890', 'port:a:33891']);
        expect(keysOf(await store.list('slot:servers:'))).toEqual(['slot:servers:0', 'slot:servers:1']);
        expect(keysOf(await store.list('port:ab:'))).toEqual(['port:ab:33890']);
      });

      it('matches keys with more segments after a prefix that ends in a colon', async () => {
        expect(keysOf(await store.list('port:'))).toEqual(['port:a:33890', 'port:a:33891', 'port:ab:33890']);
        expect(keysOf(await store.list('slot:'))).toEqual(['slot:servers:0', 'slot:servers:1']);
      });

      it('matches a prefix that ends mid-segment', async () => {
        expect(keysOf(await store.list('port:a'))).toEqual(['port:a:33890', 'port:a:33891', 'port:ab:33890']);
        expect(keysOf(await store.list('port:a:3389'))).toEqual(['port:a:33890', 'port:a:33891']);
        expect(keysOf(await store.list('slot:servers:1'))).toEqual(['slot:servers:1']);
      });

      it('returns every claim for the empty prefix and none for an unused prefix', async () => {
        expect(await store.list('')).toHaveLength(6);
        expect(await store.list('session:')).toEqual([]);
      });

      it('returns each claim with its owner', async () => {
        const claims = await store.list('port:a:');
        expect(claims.map((c) => [c.key, c.owner]).sort()).toEqual([
          ['port:a:33890', 'owner-of-port:a:33890'],
          ['port:a:33891', 'owner-of-port:a:33891'],
        ]);
      });

      it('counts the claims under a prefix exactly as list returns them', async () => {
        for (const prefix of ['', 'port:', 'port:a:', 'port:a', 'port:ab:', 'slot:servers:', 'slot:servers:1', 'session:']) {
          expect(await store.count(prefix), prefix).toBe((await store.list(prefix)).length);
        }
        expect(await store.count('port:')).toBe(3);
        expect(await store.count('')).toBe(6);
      });

      it('counts one fewer after a release and treats metacharacters literally', async () => {
        expect(await store.release('port:a:33890', 'owner-of-port:a:33890')).toBe(true);
        expect(await store.count('port:a:')).toBe(1);
        expect(await store.tryClaim('port:a.b:1', 'x')).toBe(true);
        expect(await store.tryClaim('port:aXb:1', 'x')).toBe(true);
        expect(await store.count('port:a.b:')).toBe(1);
      });

      const literalCases: [string, string, string][] = [
        ['.', 'port:a.b:', 'port:aXb:1'],
        ['+', 'port:a+b:', 'port:aab:1'],
        ['*', 'port:a*:', 'port::1'],
        ['?', 'port:ab?:', 'port:a:1'],
        ['[]', 'port:[ab]:', 'port:a:2'],
        ['()|', 'port:(a|b):', 'port:b:3'],
        ['^$', 'port:^h$:', 'port:h:4'],
        ['{}', 'port:a{2}:', 'port:aa:5'],
        ['\\', 'port:a\\d:', 'port:a7:6'],
      ];

      for (const [chars, prefix, lookalike] of literalCases) {
        it(`treats ${chars} in the prefix literally: ${prefix} does not match ${lookalike}`, async () => {
          const own = `${prefix}1`;
          expect(await store.tryClaim(own, 'owner-literal')).toBe(true);
          expect(await store.tryClaim(lookalike, 'owner-lookalike')).toBe(true);
          expect(keysOf(await store.list(prefix))).toEqual([own]);
        });
      }
    });
  });
}
