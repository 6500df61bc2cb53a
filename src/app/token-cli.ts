import { parseArgs } from 'node:util';
import { signToken } from '../adapters/auth/token-signer.js';
import { loadProcessConfig } from '../config/process-config.js';
import { ROLES, type Role } from '../domain/auth/viewer.js';

const USAGE = `Usage: npm run token -- [--role user|operator|admin] [--sub USER_ID] [--username NAME] [--ttl SECONDS]
Prints an HS256 JWT signed with JWT_SECRET (or the development secret npm start uses).`;

const { values } = parseArgs({
  options: {
    role: { type: 'string', multiple: true, default: ['user'] },
    sub: { type: 'string', default: 'alice' },
    username: { type: 'string' },
    email: { type: 'string' },
    ttl: { type: 'string', default: '3600' },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const roles = values.role ?? ['user'];
const bad = roles.filter((r) => !(ROLES as readonly string[]).includes(r));
const ttl = Number(values.ttl);
if (bad.length > 0 || !Number.isInteger(ttl) || ttl <= 0) {
  process.stderr.write(`${bad.length ? `unknown role: ${bad.join(', ')}` : 'ttl must be a positive whole number'}\n${USAGE}\n`);
  process.exit(2);
}
const config = loadProcessConfig();
if (!config.auth.secret) {
  process.stderr.write('no JWT_SECRET configured: tokens come from the issuer at AUTH_SERVICE_URL\n');
  process.exit(2);
}
const token = await signToken(
  config.auth.secret,
  {
    sub: values.sub ?? 'alice',
    roles: roles as Role[],
    ...(values.username ? { username: values.username } : {}),
    ...(values.email ? { email: values.email } : {}),
  },
  {
    expiresInSeconds: ttl,
    ...(config.auth.issuer ? { issuer: config.auth.issuer } : {}),
    ...(config.auth.audience ? { audience: config.auth.audience } : {}),
  },
);
process.stdout.write(`${token}\n`);
