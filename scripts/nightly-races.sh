#!/usr/bin/env bash
# Nightly-style run of the cross-replica races: the session admission race at full size
# (1,000 createSession calls over two replicas against a cap of 100) for 20 rounds, plus the
# termination, orphan-claim and timeout races, against real FerretDB and Redis.
#   scripts/nightly-races.sh [rounds]     (default 20; CI runs 5 as part of `npm test`)
set -euo pipefail
cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.."

rounds="${1:-20}"
case "$rounds" in
  '' | *[!0-9]*) echo "rounds must be a positive number, got '$rounds'" >&2; exit 2 ;;
esac
[ -d node_modules ] || npm ci --no-audit --no-fund
bash scripts/test-services.sh start
eval "$(bash scripts/test-services.sh env)"
export MONGODB_URI REDIS_URL REQUIRE_REAL_SERVICES=1
SESSION_RACE_CALLS=1000 SESSION_RACE_CAP=100 SESSION_RACE_ROUNDS="$rounds" \
  npx vitest run test/integration/session-races.test.ts
