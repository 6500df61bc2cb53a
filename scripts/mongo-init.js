// MongoDB initialisation for the RDP Services Cluster: collections, $jsonSchema validators and
// indexes.
//
// docker compose mounts this file into /docker-entrypoint-initdb.d of the mongo:7 container, which
// runs it with mongosh once, when the data volume is empty, against MONGO_INITDB_DATABASE
// (lucid_rdp). Run it by hand to add validators to an existing database (idempotent):
//   mongosh "mongodb://localhost:27017/lucid_rdp" scripts/mongo-init.js
//
// The API creates the same indexes at start (ensureIndexes in src/adapters/mongo), so this script
// is not needed for it to work; it adds the validators, which the API never sets (FerretDB has
// none). Validators check types, required fields and enums only: the rules live in the domain.
// test/integration/mongo-init.test.ts checks every document the adapters write against these
// validators and these indexes against the ones the adapters create. A new collection goes here too.

/* global db, print */

const SERVER_STATUSES = ['STOPPED', 'STARTING', 'RUNNING', 'STOPPING', 'ERROR', 'MAINTENANCE'];
const SESSION_STATUSES = ['ACTIVE', 'DISCONNECTED', 'TERMINATED'];
const TERMINATION_REASONS = ['USER', 'ADMIN', 'IDLE_TIMEOUT', 'SESSION_TIMEOUT', 'SERVER_STOPPED', 'SERVER_ERROR', 'DRAINED'];

const string = { bsonType: 'string' };
const nonEmpty = { bsonType: 'string', minLength: 1 };
const integer = { bsonType: ['int', 'long'] };
const number = { bsonType: 'number' };
const bool = { bsonType: 'bool' };
const date = { bsonType: 'date' };
const nullable = (schema) => ({ ...schema, bsonType: [schema.bsonType, 'null'].flat() });
const object = (required, properties) => ({ bsonType: 'object', required, properties });

/** Resource samples of one subject, packed (MongoSampleStore): an hour of raw samples or a day of summaries. */
const sampleBucket = object(['_id', 'subjectId', 'subjectKind', 'start', 'end', 'n', 'p'], {
  _id: nonEmpty,
  subjectId: nonEmpty,
  subjectKind: { enum: ['HOST', 'SERVER', 'SESSION'] },
  start: date,
  end: date,
  n: integer,
  p: string,
});
const sampleBucketIndexes = [
  { key: { subjectId: 1, start: 1 }, name: 'by_subject' },
  { key: { end: 1 }, name: 'by_end' },
];

/** A uniquely keyed claim (MongoClaimStore): ports, cap slots, state transitions, alerts. */
const claim = object(['_id', 'scope', 'owner', 'claimedAt'], {
  _id: nonEmpty,
  scope: string,
  owner: nonEmpty,
  claimedAt: date,
});

/** A claim on a revision `<entityId>:<version>` (VersionedWrites). */
const revision = object(['_id', 'entityId', 'version', 'claimedAt'], {
  _id: nonEmpty,
  entityId: nonEmpty,
  version: integer,
  claimedAt: date,
});

const collections = {
  servers: {
    schema: object(
      ['_id', 'name', 'owner', 'createdBy', 'status', 'host', 'port', 'configuration', 'resources', 'createdAt', 'updatedAt', 'version'],
      {
        _id: nonEmpty,
        name: { bsonType: 'string', minLength: 1, maxLength: 255 },
        description: { bsonType: 'string', maxLength: 1000 },
        owner: nonEmpty,
        createdBy: nonEmpty,
        status: { enum: SERVER_STATUSES },
        statusMessage: nullable(string),
        statusBeforeMaintenance: { enum: [...SERVER_STATUSES, null] },
        // Absent on servers created before hosts existed: they are on the local host (HOST_ID).
        hostId: { bsonType: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,62}$' },
        host: nonEmpty,
        port: { bsonType: ['int', 'long'], minimum: 1, maximum: 65535 },
        configuration: object(['desktop', 'resolution', 'colorDepth', 'maxSessions'], {
          desktop: { enum: ['xfce', 'gnome', 'kde', 'lxde'] },
          resolution: { bsonType: 'string', pattern: '^[0-9]+x[0-9]+$' },
          colorDepth: { enum: [16, 24, 32] },
          audio: bool,
          clipboard: bool,
          driveRedirection: bool,
          printerRedirection: bool,
          maxSessions: integer,
        }),
        resources: object(['cpuLimit', 'memoryLimitMb', 'diskLimitMb', 'bandwidthMbps'], {
          cpuLimit: number,
          memoryLimitMb: number,
          diskLimitMb: number,
          bandwidthMbps: number,
        }),
        createdAt: date,
        updatedAt: date,
        lastStartedAt: nullable(date),
        lastStoppedAt: nullable(date),
        // Absent on servers created before pools; null outside a pool.
        poolId: nullable(nonEmpty),
        // Absent on servers from before drains; null when not draining.
        drain: {
          bsonType: ['object', 'null'],
          required: ['id', 'origin', 'deadline', 'stopServer', 'startedAt', 'startedBy', 'noticeStep'],
          properties: {
            id: nonEmpty,
            origin: { enum: ['SERVER', 'HOST'] },
            deadline: date,
            stopServer: bool,
            startedAt: date,
            startedBy: nonEmpty,
            noticeStep: integer,
            actionStartedAt: nullable(date),
            completedAt: nullable(date),
          },
        },
        version: integer,
      },
    ),
    indexes: [
      { key: { createdAt: 1, _id: 1 }, name: 'created_order' },
      { key: { owner: 1, createdAt: 1 }, name: 'by_owner' },
      { key: { createdBy: 1, createdAt: 1 }, name: 'by_creator' },
      { key: { status: 1 }, name: 'by_status' },
      { key: { hostId: 1, createdAt: 1 }, name: 'by_host' },
      { key: { poolId: 1, createdAt: 1 }, name: 'by_pool' },
    ],
  },
  server_revisions: { schema: revision, indexes: [{ key: { entityId: 1, version: 1 }, name: 'by_entity' }] },
  sessions: {
    schema: object(
      [
        '_id',
        'serverId',
        'owner',
        'createdBy',
        'status',
        'clientInfo',
        'credentialMode',
        'username',
        'credentialExpiresAt',
        'slots',
        'createdAt',
        'lastActivityAt',
        'sessionDeadline',
        'version',
      ],
      {
        _id: nonEmpty,
        serverId: nonEmpty,
        owner: nonEmpty,
        createdBy: nonEmpty,
        // Absent on sessions admitted outside a pool.
        poolId: nullable(nonEmpty),
        status: { enum: SESSION_STATUSES },
        terminationReason: { enum: [...TERMINATION_REASONS, null] },
        clientInfo: object([], {
          clientName: nullable({ bsonType: 'string', maxLength: 255 }),
          clientVersion: nullable({ bsonType: 'string', maxLength: 50 }),
          clientIp: nullable(string),
          resolution: nullable(string),
          colorDepth: nullable(integer),
        }),
        credentialMode: { enum: ['HOST_ACCOUNT', 'EPHEMERAL'] },
        username: nonEmpty,
        credentialHash: nullable(string),
        credentialExpiresAt: date,
        credentialDeadline: nullable(date),
        display: nullable(integer),
        slots: object(['global', 'server', 'user'], { global: integer, server: integer, user: integer, pool: integer }),
        createdAt: date,
        connectedAt: nullable(date),
        lastActivityAt: date,
        terminatedAt: nullable(date),
        idleDeadline: nullable(date),
        sessionDeadline: date,
        version: integer,
      },
    ),
    indexes: [
      { key: { createdAt: 1, _id: 1 }, name: 'created_order' },
      { key: { serverId: 1, status: 1 }, name: 'by_server' },
      { key: { owner: 1, status: 1 }, name: 'by_owner' },
      { key: { status: 1, sessionDeadline: 1 }, name: 'by_deadline' },
      { key: { serverId: 1, username: 1 }, name: 'by_account' },
      { key: { poolId: 1, status: 1 }, name: 'by_pool' },
    ],
  },
  session_revisions: { schema: revision, indexes: [{ key: { entityId: 1, version: 1 }, name: 'by_entity' }] },
  hosts: {
    schema: object(
      [
        '_id',
        'name',
        'labels',
        'connected',
        'draining',
        'agentVersion',
        'rdpAddress',
        'portRange',
        'capacity',
        'createdAt',
        'updatedAt',
        'version',
      ],
      {
        _id: { bsonType: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,62}$' },
        name: { bsonType: 'string', minLength: 1, maxLength: 255 },
        labels: { bsonType: 'array', items: object(['key', 'value'], { key: nonEmpty, value: string }) },
        connected: bool,
        draining: bool,
        // Absent on hosts from before drain deadlines.
        drainDeadline: {
          bsonType: ['object', 'null'],
          required: ['deadline', 'stopServers', 'by'],
          properties: { deadline: date, stopServers: bool, by: nonEmpty },
        },
        lastHeartbeatAt: nullable(date),
        agentVersion: nonEmpty,
        rdpAddress: nonEmpty,
        portRange: object(['from', 'to'], {
          from: { bsonType: ['int', 'long'], minimum: 1024, maximum: 65535 },
          to: { bsonType: ['int', 'long'], minimum: 1024, maximum: 65535 },
        }),
        capacity: object(['maxServers', 'cpuCount', 'memoryMb'], {
          maxServers: { bsonType: ['int', 'long'], minimum: 0 },
          cpuCount: { bsonType: ['int', 'long'], minimum: 1 },
          memoryMb: { bsonType: ['int', 'long'], minimum: 1 },
        }),
        usage: {
          bsonType: ['object', 'null'],
          required: ['cpuPercent', 'memoryPercent', 'at'],
          properties: { cpuPercent: number, memoryPercent: number, at: date },
        },
        createdAt: date,
        updatedAt: date,
        version: integer,
      },
    ),
    indexes: [],
  },
  host_revisions: { schema: revision, indexes: [{ key: { entityId: 1, version: 1 }, name: 'by_entity' }] },
  pools: {
    schema: object(['_id', 'name', 'placementPolicy', 'createdBy', 'createdAt', 'updatedAt', 'version'], {
      _id: nonEmpty,
      name: { bsonType: 'string', minLength: 1, maxLength: 255 },
      description: { bsonType: 'string', maxLength: 1000 },
      placementPolicy: { enum: ['BREADTH_FIRST', 'DEPTH_FIRST'] },
      maxSessions: nullable({ bsonType: ['int', 'long'], minimum: 1 }),
      defaultCredentialMode: { enum: ['HOST_ACCOUNT', 'EPHEMERAL', null] },
      createdBy: nonEmpty,
      createdAt: date,
      updatedAt: date,
      version: integer,
    }),
    indexes: [{ key: { name: 1, _id: 1 }, name: 'by_name' }],
  },
  pool_revisions: { schema: revision, indexes: [{ key: { entityId: 1, version: 1 }, name: 'by_entity' }] },
  assignments: {
    schema: object(['_id', 'key', 'principalType', 'principal', 'targetType', 'targetId', 'createdBy', 'createdAt'], {
      _id: nonEmpty,
      key: nonEmpty,
      principalType: { enum: ['USER', 'GROUP'] },
      principal: nonEmpty,
      targetType: { enum: ['POOL', 'SERVER'] },
      targetId: nonEmpty,
      createdBy: nonEmpty,
      createdAt: date,
    }),
    indexes: [
      { key: { key: 1 }, name: 'unique_key', unique: true },
      { key: { principalType: 1, principal: 1 }, name: 'by_principal' },
      { key: { targetType: 1, targetId: 1 }, name: 'by_target' },
    ],
  },
  claims: { schema: claim, indexes: [{ key: { scope: 1 }, name: 'by_scope' }] },
  alert_claims: { schema: claim, indexes: [{ key: { scope: 1 }, name: 'by_scope' }] },
  audit_events: {
    schema: object(['_id', 'time', 'actor', 'action', 'result', 'details'], {
      _id: nonEmpty,
      time: date,
      actor: object(['userId', 'name', 'ip'], { userId: nullable(string), name: nullable(string), ip: nullable(string) }),
      action: nonEmpty,
      target: { bsonType: ['object', 'null'], properties: { type: nonEmpty, id: nullable(string), name: nullable(string) } },
      result: { enum: ['SUCCESS', 'FAILURE', 'DENIED'] },
      details: { bsonType: 'object' },
    }),
    indexes: [
      { key: { time: -1, _id: -1 }, name: 'newest_first' },
      { key: { action: 1, time: -1 }, name: 'by_action' },
      { key: { 'actor.userId': 1, time: -1 }, name: 'by_actor' },
      { key: { 'target.id': 1, time: -1 }, name: 'by_target' },
    ],
  },
  alerts: {
    schema: object(
      ['_id', 'severity', 'resource', 'subjectKind', 'subjectId', 'host', 'threshold', 'value', 'message', 'createdAt', 'version'],
      {
        _id: nonEmpty,
        severity: { enum: ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] },
        resource: { enum: ['CPU', 'MEMORY', 'DISK', 'NETWORK'] },
        subjectKind: { enum: ['HOST', 'SERVER', 'SESSION'] },
        subjectId: nonEmpty,
        subjectName: nullable(string),
        host: string,
        threshold: number,
        value: number,
        message: string,
        createdAt: date,
        resolvedAt: nullable(date),
        resolvedBy: nullable(string),
        visibleTo: { bsonType: 'array', items: string },
        version: integer,
      },
    ),
    indexes: [
      { key: { createdAt: -1, _id: -1 }, name: 'newest_first' },
      { key: { subjectId: 1, createdAt: -1 }, name: 'by_subject' },
      { key: { resolvedAt: 1 }, name: 'by_resolved' },
    ],
  },
  alert_revisions: { schema: revision, indexes: [{ key: { entityId: 1, version: 1 }, name: 'by_entity' }] },
  resource_limits_versions: {
    schema: object(['_id', 'limits', 'updatedBy', 'updatedAt'], {
      _id: { bsonType: ['int', 'long'], minimum: 1 },
      limits: object(['global', 'perServer', 'perSession', 'perUser'], {
        global: { bsonType: 'object' },
        perServer: { bsonType: 'object' },
        perSession: { bsonType: 'object' },
        perUser: { bsonType: 'object' },
      }),
      updatedBy: nonEmpty,
      updatedAt: date,
    }),
    indexes: [],
  },
  resource_buckets: { schema: sampleBucket, indexes: sampleBucketIndexes },
  resource_summaries: { schema: sampleBucket, indexes: sampleBucketIndexes },
  resource_latest: {
    schema: object(['_id', 'subjectKind', 'at', 'p'], {
      _id: nonEmpty,
      subjectKind: { enum: ['HOST', 'SERVER', 'SESSION'] },
      at: date,
      p: string,
    }),
    indexes: [{ key: { at: 1 }, name: 'by_at' }],
  },
  xrdp_config_versions: {
    schema: object(['_id', 'config', 'updatedBy', 'updatedAt'], {
      _id: { bsonType: ['int', 'long'], minimum: 1 },
      config: object(['global', 'security', 'performance'], {
        global: { bsonType: 'object' },
        security: { bsonType: 'object' },
        performance: { bsonType: 'object' },
      }),
      updatedBy: nonEmpty,
      updatedAt: date,
    }),
    indexes: [],
  },
};

const existing = db.getCollectionNames();
for (const [name, spec] of Object.entries(collections)) {
  const validation = { validator: { $jsonSchema: spec.schema }, validationLevel: 'strict', validationAction: 'error' };
  if (existing.includes(name)) {
    db.runCommand({ collMod: name, ...validation });
  } else {
    db.createCollection(name, validation);
  }
  for (const index of spec.indexes) {
    db.getCollection(name).createIndex(index.key, { name: index.name, ...(index.unique ? { unique: true } : {}) });
  }
  print(`mongo-init: ${db.getName()}.${name}: validator and ${spec.indexes.length} index(es)`);
}
