#!/usr/bin/env bash
# Entrypoint of the xrdp-host image (see Dockerfile): clears what a previous run of this container
# may have left, then runs node with the given script (default: the service).
#   docker run ... rdp-services-cluster-xrdp-host                     # the service
#   docker run ... rdp-services-cluster-xrdp-host dist/src/app/agent-main.js   # the host agent
#   docker compose run --rm --no-deps -T api dist/src/app/backup-cli.js backup -   # a CLI
set -euo pipefail

if [[ ${1:-} == -h || ${1:-} == --help ]]; then
  sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
fi

# xrdp and xrdp-sesman refuse to start while these exist, even with --nodaemon; a container that
# was killed and restarted keeps its /run. The service never runs xrdp in daemon mode, so any pid
# file here at start is stale.
rm -f /run/xrdp/xrdp.pid /run/xrdp/xrdp-sesman.pid
mkdir -p /run/xrdp /var/log/xrdp

if [[ ! -e /etc/xrdp/sesman.ini ]]; then
  # xrdp always reads the sesman port from /etc/xrdp/sesman.ini (compiled-in path). An empty bind
  # mount over /etc/xrdp hides the package's files; a named volume is filled from the image.
  echo "xrdp-host-entrypoint: /etc/xrdp/sesman.ini is missing; mount a named volume (not an empty directory) at /etc/xrdp" >&2
fi

if (($# == 0)); then
  set -- dist/src/app/main.js
fi
exec /nodejs/bin/node "$@"
