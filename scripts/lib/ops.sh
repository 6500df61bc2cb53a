# shellcheck shell=bash
# Helpers shared by the operations scripts (deploy, rolling-update, backup, restore). Sourced,
# not run, with the script's name as the argument (the log prefix); bad_usage calls the
# script's usage().

readonly SCRIPT_NAME=$1

log() { printf '%s: %s\n' "$SCRIPT_NAME" "$*" >&2; }

die() {
  log "ERROR: $*"
  exit 1
}

bad_usage() {
  log "$*"
  usage >&2
  exit 2
}

compose() {
  if docker compose version >/dev/null 2>&1; then
    docker compose "$@"
  elif command -v docker-compose >/dev/null 2>&1; then
    docker-compose "$@"
  else
    die "neither 'docker compose' nor 'docker-compose' is available"
  fi
}
