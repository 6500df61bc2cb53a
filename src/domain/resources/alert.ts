import type { ResourceFigures, SubjectKind } from './resource-sample.js';

export const ALERT_SEVERITIES = ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

export const ALERT_RESOURCES = ['CPU', 'MEMORY', 'DISK', 'NETWORK'] as const;
export type AlertResource = (typeof ALERT_RESOURCES)[number];

/** A threshold crossing of one resource of one subject (docs/DOMAIN.md, "Alerts"). */
export interface Alert {
  id: string;
  severity: AlertSeverity;
  resource: AlertResource;
  subjectKind: SubjectKind;
  subjectId: string;
  /** The server's name, the session's account, or the host name, at the time of the alert. */
  subjectName: string | null;
  /** The host whose collector raised it. */
  host: string;
  threshold: number;
  /** The value that crossed it (percent; Mbps for NETWORK). */
  value: number;
  message: string;
  createdAt: string;
  resolvedAt: string | null;
  /** The operator who resolved it; null while open or when it resolved itself. */
  resolvedBy: string | null;
  /** Users besides operators who may see it: the subject's owner and creator (none for the host). */
  visibleTo: string[];
  version: number;
}

/** Thresholds a value must be strictly above to raise an alert. */
export interface AlertThresholds {
  cpuPercent: number;
  memoryPercent: number;
  diskPercent: number;
  networkMbps: number;
}

/** docs/DOMAIN.md: CPU 80, memory 80, disk 90, network 1000 Mbps. */
export const DEFAULT_THRESHOLDS: AlertThresholds = { cpuPercent: 80, memoryPercent: 80, diskPercent: 90, networkMbps: 1000 };

/** At or above this percentage an alert is CRITICAL instead of HIGH. */
export const CRITICAL_PERCENT = 95;

/**
 * The value compared for a resource, or null when the sample has none. Network is the busier
 * direction in Mbps: a link's capacity applies to each direction on its own.
 */
export function measure(resource: AlertResource, f: ResourceFigures): number | null {
  switch (resource) {
    case 'CPU':
      return f.cpuPercent;
    case 'MEMORY':
      return f.memoryPercent;
    case 'DISK':
      return f.diskPercent;
    case 'NETWORK':
      if (f.networkInKbps === null && f.networkOutKbps === null) return null;
      return Math.max(f.networkInKbps ?? 0, f.networkOutKbps ?? 0) / 1000;
  }
}

export function thresholdOf(resource: AlertResource, t: AlertThresholds): number {
  return resource === 'CPU'
    ? t.cpuPercent
    : resource === 'MEMORY'
      ? t.memoryPercent
      : resource === 'DISK'
        ? t.diskPercent
        : t.networkMbps;
}

/** HIGH; CRITICAL for disk, and for a percentage at or above 95 (docs/DOMAIN.md). */
export function severityOf(resource: AlertResource, value: number): AlertSeverity {
  if (resource === 'DISK') return 'CRITICAL';
  if (resource !== 'NETWORK' && value >= CRITICAL_PERCENT) return 'CRITICAL';
  return 'HIGH';
}

const UNITS: Record<AlertResource, string> = { CPU: '%', MEMORY: '%', DISK: '%', NETWORK: ' Mbps' };

export function alertMessage(resource: AlertResource, kind: SubjectKind, name: string | null, value: number, threshold: number) {
  const subject = `${kind.toLowerCase()}${name ? ` ${name}` : ''}`;
  const unit = UNITS[resource];
  return `${resource} of ${subject} is ${Math.round(value * 10) / 10}${unit}, above the threshold of ${threshold}${unit}`;
}

/** The claim that makes "one unresolved alert per (subject, resource)" exact on every backend. */
export const alertClaimKey = (subjectId: string, resource: AlertResource) => `alert:${subjectId}:${resource}`;

export const ALERT_CLAIM_PREFIX = 'alert:';

/** Subject and resource of a claim key made by alertClaimKey. */
export function parseAlertClaimKey(key: string): { subjectId: string; resource: AlertResource } | null {
  if (!key.startsWith(ALERT_CLAIM_PREFIX)) return null;
  const colon = key.lastIndexOf(':');
  const resource = key.slice(colon + 1) as AlertResource;
  if (!ALERT_RESOURCES.includes(resource) || colon <= ALERT_CLAIM_PREFIX.length) return null;
  return { subjectId: key.slice(ALERT_CLAIM_PREFIX.length, colon), resource };
}

/** Published on `alert:changed` (keyed `all`) when an alert is raised or resolved. */
export interface AlertEvent {
  kind: 'RAISED' | 'RESOLVED';
  alert: Alert;
  at: string;
}
