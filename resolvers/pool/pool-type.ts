import {
  ASSIGNMENT_TARGETS,
  type Assignment,
  PLACEMENT_POLICIES,
  type Pool,
  PRINCIPAL_TYPES,
} from '../../src/domain/pools/pool.js';
import type { EffectiveAccess } from '../../src/domain/pools/pool-service.js';
import { builder } from '../builder.js';

export const PlacementPolicyEnum = builder.enumType('PlacementPolicy', {
  description: 'How the broker picks a server of a pool for a new session.',
  values: {
    BREADTH_FIRST: {
      value: PLACEMENT_POLICIES[0],
      description: 'The server with the fewest sessions first (ties at random): sessions spread over the servers.',
    },
    DEPTH_FIRST: {
      value: PLACEMENT_POLICIES[1],
      description: 'The fullest server that still has room first (by name, then id): a server fills before the next is used.',
    },
  } as const,
});

export const PrincipalTypeEnum = builder.enumType('PrincipalType', {
  description: 'Who an assignment is for.',
  values: {
    USER: { value: PRINCIPAL_TYPES[0], description: 'A user, by user id (the token subject).' },
    GROUP: { value: PRINCIPAL_TYPES[1], description: 'Every user whose token lists this group in the GROUPS_CLAIM claim.' },
  } as const,
});

export const AssignmentTargetTypeEnum = builder.enumType('AssignmentTargetType', {
  description: 'What an assignment gives the use of.',
  values: {
    POOL: { value: ASSIGNMENT_TARGETS[0], description: 'A pool: every server in it, through connect.' },
    SERVER: { value: ASSIGNMENT_TARGETS[1], description: 'One server.' },
  } as const,
});

export const PoolRef = builder.objectRef<Pool>('Pool');

export const AssignmentRef = builder.objectRef<Assignment>('Assignment').implement({
  description:
    'Gives a user or a group the use of a pool or a server: they see it and may connect. Taking it away ends nothing running; the next connect is refused.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'UUID of the assignment.' }),
    principalType: t.expose('principalType', { type: PrincipalTypeEnum, description: 'User or group.' }),
    principal: t.exposeString('principal', { description: 'The user id or the group name.' }),
    targetType: t.expose('targetType', { type: AssignmentTargetTypeEnum, description: 'Pool or server.' }),
    targetId: t.exposeString('targetId', { description: 'Id of the pool or the server.' }),
    createdBy: t.exposeString('createdBy', { description: 'User id of the operator who made it.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When it was made.' }),
  }),
});

export const AccessReasonEnum = builder.enumType('AccessReason', {
  description: 'Why a user may or may not use a server or pool.',
  values: {
    OWNER: { description: 'The user owns or created the server.' },
    USER_ASSIGNMENT: { description: 'The server or pool is assigned to the user.' },
    GROUP_ASSIGNMENT: { description: 'The server or pool is assigned to a group the user is in.' },
    POOL_ASSIGNMENT: { description: "The server's pool is assigned to the user or one of their groups." },
    OPERATOR_ROLE: { description: 'The user is an operator or admin (answered for the asker themself).' },
    NONE: { description: 'Nothing gives the user access.' },
  } as const,
});

export const EffectiveAccessRef = builder.objectRef<EffectiveAccess>('EffectiveAccess').implement({
  description: 'Whether a user may use a server or pool, and why: the rule the broker and the visibility of servers apply.',
  fields: (t) => ({
    allowed: t.exposeBoolean('allowed', { description: 'True when the user may see it and connect.' }),
    reason: t.expose('reason', { type: AccessReasonEnum, description: 'What gives (or does not give) access.' }),
    explanation: t.exposeString('explanation', { description: 'The same, as a sentence naming the group or pool.' }),
    assignment: t.expose('assignment', {
      type: AssignmentRef,
      nullable: true,
      description: 'The assignment that gives access, when one does.',
    }),
  }),
});
