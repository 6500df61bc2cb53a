import { readFileSync } from 'node:fs';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startTestApp, type TestApp } from '../support/app-harness.js';

const list = JSON.parse(
  readFileSync(new URL('../../src/console/src/gql/persisted-documents.json', import.meta.url), 'utf8'),
) as Record<string, string>;
const viewerId = Object.entries(list).find(([, text]) => text.startsWith('query ConsoleViewer'))?.[0] ?? '';
const fleetId = Object.entries(list).find(([, text]) => text.includes('query ConsoleFleet'))?.[0] ?? '';
const hex = (id: string) => id.replace(/^sha256:/, '');
const persisted = (id: string) => ({ persistedQuery: { version: 1, sha256Hash: hex(id) } });

type Body = { data?: Record<string, unknown> | null; errors?: { message: string; extensions?: { code?: string } }[] };

async function post(t: TestApp, body: unknown, token: string): Promise<Body> {
  const r = await fetch(`${t.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  return (await r.json()) as Body;
}

function overWs(t: TestApp, token: string, payload: { query: string; extensions?: Record<string, unknown> }): Promise<Body> {
  const client = createClient({
    url: t.wsUrl,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    connectionParams: { authorization: `Bearer ${token}` },
  });
  return new Promise<Body>((resolve, reject) => {
    let first: Body = {};
    client.subscribe(payload, {
      next: (v) => {
        first = v as Body;
      },
      // Refused in onSubscribe: graphql-ws sends the errors as an `error` message.
      error: (e) => (Array.isArray(e) ? resolve({ errors: e as Body['errors'] }) : reject(e)),
      complete: () => resolve(first),
    });
  }).finally(() => client.dispose());
}

describe('trusted documents', () => {
  it('the list holds the console operations', () => {
    expect(viewerId).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(fleetId).not.toBe('');
  });

  describe('by default (TRUSTED_DOCUMENTS_ONLY off)', () => {
    let t: TestApp;
    let token: string;
    beforeAll(async () => {
      t = await startTestApp();
      token = await t.token('alice', ['user']);
    });
    afterAll(() => t.stop());

    it('runs a trusted document by its hash and any other query, on HTTP and WebSocket', async () => {
      expect((await post(t, { extensions: persisted(viewerId) }, token)).data).toEqual({
        viewer: { roles: ['user'], userId: 'alice', username: 'alice' },
      });
      expect((await post(t, { query: '{ viewer { userId } }' }, token)).data).toEqual({ viewer: { userId: 'alice' } });
      expect((await overWs(t, token, { query: '', extensions: persisted(viewerId) })).data).toMatchObject({
        viewer: { userId: 'alice' },
      });
      expect((await overWs(t, token, { query: '{ viewer { userId } }' })).data).toEqual({ viewer: { userId: 'alice' } });
    });

    it('an unknown hash is refused in words', async () => {
      const unknown = persisted(`sha256:${'0'.repeat(64)}`);
      const http = await post(t, { extensions: unknown }, token);
      expect(http.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
      const ws = await overWs(t, token, { query: '', extensions: unknown });
      expect(ws.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    });
  });

  describe('TRUSTED_DOCUMENTS_ONLY=true', () => {
    let t: TestApp;
    let token: string;
    beforeAll(async () => {
      t = await startTestApp({ TRUSTED_DOCUMENTS_ONLY: 'true' });
      token = await t.token('alice', ['user']);
    });
    afterAll(() => t.stop());

    it('runs the trusted documents and refuses any query text, on HTTP and WebSocket', async () => {
      expect((await post(t, { extensions: persisted(viewerId) }, token)).data).toMatchObject({ viewer: { userId: 'alice' } });
      expect((await post(t, { extensions: persisted(fleetId), variables: { first: 5 } }, token)).data).toMatchObject({
        servers: { totalCount: 0 },
      });
      const refused = await post(t, { query: '{ viewer { userId } }' }, token);
      expect(refused.data ?? null).toBeNull();
      expect(refused.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_ONLY');
      expect(refused.errors?.[0]?.message).toContain('TRUSTED_DOCUMENTS_ONLY');

      expect((await overWs(t, token, { query: '', extensions: persisted(viewerId) })).data).toMatchObject({
        viewer: { userId: 'alice' },
      });
      const ws = await overWs(t, token, { query: '{ viewer { userId } }' });
      expect(ws.data ?? null).toBeNull();
      expect(ws.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_ONLY');
    });
  });

  it('TRUSTED_DOCUMENTS_ONLY takes only true or false', async () => {
    await expect(startTestApp({ TRUSTED_DOCUMENTS_ONLY: 'sometimes' })).rejects.toThrow(/TRUSTED_DOCUMENTS_ONLY/);
  });
});
