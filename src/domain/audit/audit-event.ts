import type { Viewer } from '../auth/viewer.js';

export const AUDIT_RESULTS = ['SUCCESS', 'FAILURE', 'DENIED'] as const;
export type AuditResult = (typeof AUDIT_RESULTS)[number];

/**
 * What the service records. Domain actions are named `<area>.<verb>`; refusals the API layer
 * records for a root field without one of these names are `api.<field>`.
 */
export const AUDIT_ACTIONS = [
  'server.create',
  'server.update',
  'server.delete',
  'server.start',
  'server.stop',
  'server.restart',
  'server.maintenance',
  'server.drain',
  'server.drain.cancel',
  'server.drained',
  'session.create',
  'session.connect',
  'session.disconnect',
  'session.terminate',
  'session.reissue',
  'xrdp.config.update',
  'xrdp.service.control',
  'limits.update',
  'alert.resolve',
  'host.drain',
  'auth.token',
] as const;
export type KnownAuditAction = (typeof AUDIT_ACTIONS)[number];

/** Who acted: a user from a verified token, `system` for the service's own jobs, or nobody known. */
export interface AuditActor {
  userId: string | null;
  name: string | null;
  /** Address the request came from; null for the service's own jobs. */
  ip: string | null;
}

export interface AuditTarget {
  /** server, session, host, xrdp_config, xrdp_service, resource_limits, alert, api */
  type: string;
  id: string | null;
  name: string | null;
}

export type AuditDetailValue = string | number | boolean | null | AuditDetailValue[] | { [key: string]: AuditDetailValue };
export type AuditDetails = Record<string, AuditDetailValue>;

/** One audit record (docs/DOMAIN.md, "Audit events"). Never holds a password, token or credential hash. */
export interface AuditEvent {
  id: string;
  /** ISO-8601 UTC. */
  time: string;
  actor: AuditActor;
  action: string;
  target: AuditTarget | null;
  result: AuditResult;
  details: AuditDetails;
}

export const SYSTEM_ACTOR: AuditActor = { userId: 'system', name: 'system', ip: null };

export function actorOf(viewer: Viewer | null, ip: string | null = viewer?.ip ?? null): AuditActor {
  return viewer ? { userId: viewer.userId, name: viewer.username, ip } : { userId: null, name: null, ip };
}

/** Keys whose values are never kept, whatever the caller passed. */
const SECRET_KEY =
  /^(password|passwd|pass|secret|token|accesstoken|refreshtoken|idtoken|authorization|cookie|credential|credentialhash|otp|jwt|privatekey)$/i;
/** A JWT (three base64url parts, the first a JSON header) anywhere in a string. */
const JWT = /eyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*/g;
const MAX_STRING = 500;
const MAX_ITEMS = 50;
const MAX_DEPTH = 4;

function clean(value: unknown, depth: number): AuditDetailValue | undefined {
  if (value === null || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string') {
    const s = value.replace(JWT, '[redacted]');
    return s.length > MAX_STRING ? `${s.slice(0, MAX_STRING)}…` : s;
  }
  if (depth >= MAX_DEPTH || typeof value !== 'object') return undefined;
  if (Array.isArray(value)) {
    return value.slice(0, MAX_ITEMS).flatMap((v) => {
      const c = clean(v, depth + 1);
      return c === undefined ? [] : [c];
    });
  }
  return cleanObject(value as Record<string, unknown>, depth + 1);
}

function cleanObject(value: Record<string, unknown>, depth: number): AuditDetails {
  const out: AuditDetails = {};
  for (const [key, v] of Object.entries(value).slice(0, MAX_ITEMS)) {
    if (SECRET_KEY.test(key)) continue;
    const c = clean(v, depth);
    // Document stores treat `.` and a leading `$` in keys as paths and operators.
    if (c !== undefined) out[key.replace(/\./g, '_').replace(/^\$/, '_')] = c;
  }
  return out;
}

/** JSON-safe details without secret-named keys, token-like strings, or unbounded sizes. */
export function sanitizeDetails(details: Record<string, unknown> | undefined): AuditDetails {
  return details ? cleanObject(details, 0) : {};
}
