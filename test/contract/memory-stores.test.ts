import { MemoryClaimStore } from '../../src/adapters/memory/memory-claim-store.js';
import { MemoryHostStore } from '../../src/adapters/memory/memory-host-store.js';
import { MemoryAssignmentStore, MemoryPoolStore } from '../../src/adapters/memory/memory-pool-store.js';
import { MemoryServerStore } from '../../src/adapters/memory/memory-server-store.js';
import { MemorySessionStore } from '../../src/adapters/memory/memory-session-store.js';
import { claimStoreContract } from './claim-store.contract.js';
import { hostStoreContract } from './host-store.contract.js';
import { poolStoresContract } from './pool-store.contract.js';
import { serverStoreContract } from './server-store.contract.js';
import { sessionStoreContract } from './session-store.contract.js';

const nothing = async (): Promise<void> => {};

serverStoreContract('MemoryServerStore', async () => ({ store: new MemoryServerStore(), cleanup: nothing }));
claimStoreContract('MemoryClaimStore', async () => ({ store: new MemoryClaimStore(), cleanup: nothing }));
sessionStoreContract('MemorySessionStore', async () => ({ store: new MemorySessionStore(), cleanup: nothing }));
hostStoreContract('MemoryHostStore', async () => ({ store: new MemoryHostStore(), cleanup: nothing }));
poolStoresContract('MemoryPoolStore + MemoryAssignmentStore', async () => ({
  pools: new MemoryPoolStore(),
  assignments: new MemoryAssignmentStore(),
  cleanup: nothing,
}));
