import type { Host } from '../../domain/hosts/host.js';
import type { HostStore } from '../../domain/hosts/host-store.js';

function copyHost(h: Host): Host {
  return {
    ...h,
    labels: { ...h.labels },
    portRange: { ...h.portRange },
    capacity: { ...h.capacity },
    usage: h.usage ? { ...h.usage } : null,
    drainDeadline: h.drainDeadline ? { ...h.drainDeadline } : null,
  };
}

/** Hosts in a Map; copies in and out so callers never share state with the store. */
export class MemoryHostStore implements HostStore {
  private readonly hosts = new Map<string, Host>();

  async insert(host: Host): Promise<boolean> {
    if (this.hosts.has(host.id)) return false;
    this.hosts.set(host.id, copyHost(host));
    return true;
  }

  async findById(id: string): Promise<Host | null> {
    const h = this.hosts.get(id);
    return h ? copyHost(h) : null;
  }

  async findByIds(ids: readonly string[]): Promise<Host[]> {
    return ids.flatMap((id) => {
      const h = this.hosts.get(id);
      return h ? [copyHost(h)] : [];
    });
  }

  async list(): Promise<Host[]> {
    return [...this.hosts.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).map(copyHost);
  }

  async compareAndSet(next: Host, expectedVersion: number): Promise<boolean> {
    const current = this.hosts.get(next.id);
    if (!current || current.version !== expectedVersion) return false;
    this.hosts.set(next.id, copyHost(next));
    return true;
  }
}
