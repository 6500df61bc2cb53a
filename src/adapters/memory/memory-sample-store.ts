import { type ResourcePoint, type ResourceSample, summarize } from '../../domain/resources/resource-sample.js';
import type { ResourceSampleStore, SummaryBin } from '../../domain/resources/resource-sample-store.js';

/** Samples per subject keyed by time; copies in and out. */
export class MemorySampleStore implements ResourceSampleStore {
  private readonly bySubject = new Map<string, Map<string, ResourceSample>>();

  async append(samples: readonly ResourceSample[]): Promise<void> {
    for (const s of samples) {
      let forSubject = this.bySubject.get(s.subjectId);
      if (!forSubject) {
        forSubject = new Map();
        this.bySubject.set(s.subjectId, forSubject);
      }
      forSubject.set(s.at, { ...s });
    }
  }

  async samples(subjectId: string, from: Date, to: Date): Promise<ResourceSample[]> {
    const all = [...(this.bySubject.get(subjectId)?.values() ?? [])];
    return all
      .filter((s) => {
        const t = Date.parse(s.at);
        return t >= from.getTime() && t < to.getTime();
      })
      .sort((a, b) => (a.at < b.at ? -1 : 1))
      .map((s) => ({ ...s }));
  }

  async summaries(subjectId: string, from: Date, to: Date, binSeconds: SummaryBin): Promise<ResourcePoint[]> {
    const start = Math.floor(from.getTime() / (binSeconds * 1000)) * binSeconds * 1000;
    const points = summarize(await this.samples(subjectId, new Date(start), to), binSeconds);
    return points.filter((p) => Date.parse(p.at) >= from.getTime());
  }

  async latest(subjectIds: readonly string[]): Promise<(ResourceSample | null)[]> {
    return subjectIds.map((id) => {
      let newest: ResourceSample | null = null;
      for (const s of this.bySubject.get(id)?.values() ?? []) if (!newest || s.at > newest.at) newest = s;
      return newest ? { ...newest } : null;
    });
  }

  async prune(before: Date): Promise<number> {
    let removed = 0;
    const cutoff = before.toISOString();
    for (const [subject, forSubject] of this.bySubject) {
      for (const at of [...forSubject.keys()]) {
        if (at < cutoff) {
          forSubject.delete(at);
          removed++;
        }
      }
      if (forSubject.size === 0) this.bySubject.delete(subject);
    }
    return removed;
  }
}
