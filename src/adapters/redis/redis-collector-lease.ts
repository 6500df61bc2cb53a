import type { Redis } from 'ioredis';
import type { CollectorLease } from '../../domain/resources/collector-lease.js';

/** Take the key if free, renew it if ours: 1 while held by `owner`, else 0. */
const ACQUIRE = `
local current = redis.call('GET', KEYS[1])
if current == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if current then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`;

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/**
 * The collector lease in Redis: a key holding the replica's id with a TTL of 1.5 intervals,
 * renewed every round. A replica that dies stops renewing; another takes the key at its first
 * round after the TTL, so within two intervals. Stopping releases it at once.
 */
export class RedisCollectorLease implements CollectorLease {
  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    private readonly owner: string,
    private readonly ttlMs: number,
  ) {}

  async acquire(): Promise<boolean> {
    return (await this.redis.eval(ACQUIRE, 1, this.key, this.owner, this.ttlMs)) === 1;
  }

  async release(): Promise<void> {
    await this.redis.eval(RELEASE, 1, this.key, this.owner);
  }
}
