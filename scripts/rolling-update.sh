#!/usr/bin/env bash
# Updates one docker compose service to a freshly built or pulled image, health-checking the new
# container and rolling back to the previous image when it does not become healthy.
# Run `scripts/rolling-update.sh --help` for usage.
set -euo pipefail
shopt -s inherit_errexit

ROOT=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
readonly ROOT
# shellcheck source=scripts/lib/ops.sh
source "$ROOT/scripts/lib/ops.sh" rolling-update

usage() {
  cat <<'EOF'
Usage: scripts/rolling-update.sh [--no-build] [--timeout SECONDS] SERVICE

Builds (or pulls) SERVICE's image, then replaces its containers one at a time, in one of two ways:

  overlap  for a service that can run twice side by side (no fixed host ports, no named volumes):
           scale up by one with the new image, wait until the new container is healthy, then stop
           and remove one old container; repeat for each. If the new one does not become healthy
           it is removed and the old ones keep running: no interruption.
  replace  for a service that cannot (a fixed published port such as 8090, or a named volume that
           two copies must not share, e.g. MongoDB's data): recreate the container with the new
           image and wait until it is healthy. If it does not, the previous image is put back and
           the container recreated from it. The service is unavailable while it restarts.

The script picks the way from the running container and says which. With the compose files in
this repository every service takes the replace way (fixed ports or named volumes):

  api    publishes 8090: GraphQL is unavailable for the seconds the new container takes to become
         healthy, but no RDP session is touched. The sessions live in the agent container, and
         the agent keeps reporting to Redis meanwhile; the new api applies what it missed.
  agent  recreating its container ends every xrdp instance and session of this host (they are
         its processes): drain the host first (docs/OPERATIONS.md#rolling-updates).

With config/compose.all-in-one.yml the sessions live in the api container, and updating api ends
them: drain it first.

Options:
  --no-build         do not build; use the image already built or pulled
  --timeout SECONDS  how long a new container has to become healthy (default 180)
  -h, --help         this help

Exit status: 0 updated, 1 failed (rolled back when the new container was unhealthy), 2 bad usage.
EOF
}

# container_health ID: healthy | unhealthy | starting | exited | ... (state when there is no health check)
container_health() {
  docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' "$1" 2>/dev/null || echo missing
}

# wait_container ID TIMEOUT: 0 once healthy (or running, without a health check), 1 otherwise.
wait_container() {
  local id=$1 deadline=$((SECONDS + $2)) status
  while :; do
    status=$(container_health "$id")
    case $status in
      healthy) return 0 ;;
      running)
        # No health check defined: running for a few seconds is all we can know.
        sleep 5
        [[ $(container_health "$id") == running ]] && return 0
        return 1
        ;;
      unhealthy | exited | dead | missing) break ;;
    esac
    ((SECONDS < deadline)) || break
    sleep 2
  done
  log "container ${id:0:12} is $(container_health "$id"); last health check output and log lines:"
  docker inspect -f '{{if .State.Health}}{{range .State.Health.Log}}{{.Output}}{{end}}{{end}}' "$id" 2>/dev/null | tail -n 5 | sed 's/^/    /' >&2 || true
  docker logs --tail 30 "$id" 2>&1 | sed 's/^/    /' >&2 || true
  return 1
}

# needs_replace ID: prints why the container cannot run twice (fixed host ports, named volumes), or nothing.
needs_replace() {
  local ports volumes
  ports=$(docker inspect -f '{{range $p, $b := .HostConfig.PortBindings}}{{range $b}}{{if .HostPort}}{{.HostPort}} {{end}}{{end}}{{end}}' "$1")
  volumes=$(docker inspect -f '{{range .Mounts}}{{if eq .Type "volume"}}{{.Name}} {{end}}{{end}}' "$1")
  if [[ -n ${ports// /} ]]; then
    printf 'it publishes fixed host ports (%s)' "${ports% }"
  elif [[ -n ${volumes// /} ]]; then
    printf 'it mounts named volumes (%s) that two copies must not share' "${volumes% }"
  fi
}

running_ids() { compose ps -q "$1"; }

# restore_image IMAGE_ID REF: points REF (the service's image name) back at the previous image.
restore_image() {
  docker image tag "$1" "$2" || log "could not tag $1 as $2"
}

update_overlap() {
  local service=$1 timeout=$2 old_image=$3 ref=$4 old=() current=() id new n
  mapfile -t old < <(running_ids "$service")
  n=${#old[@]}
  for id in "${old[@]}"; do
    mapfile -t current < <(running_ids "$service")
    compose up -d --no-deps --no-recreate --no-build --scale "$service=$((${#current[@]} + 1))" "$service"
    new=$(comm -13 <(printf '%s\n' "${current[@]}" | sort) <(running_ids "$service" | sort) | head -n 1)
    [[ -n $new ]] || die "scaling $service up did not start a new container"
    log "new container ${new:0:12} started; waiting until healthy ..."
    if ! wait_container "$new" "$timeout"; then
      docker rm -f "$new" >/dev/null || true
      restore_image "$old_image" "$ref"
      compose up -d --no-deps --no-recreate --no-build --scale "$service=$n" "$service" || true
      die "the new $service container did not become healthy: removed it; the old containers keep running on the previous image"
    fi
    log "new container ${new:0:12} healthy; stopping old ${id:0:12}"
    docker stop -t 30 "$id" >/dev/null
    docker rm "$id" >/dev/null
  done
  compose up -d --no-deps --no-recreate --no-build --scale "$service=$n" "$service"
}

update_replace() {
  local service=$1 timeout=$2 old_image=$3 ref=$4 new
  compose up -d --no-deps --no-build --force-recreate "$service"
  new=$(running_ids "$service" | head -n 1)
  [[ -n $new ]] || die "$service did not start after recreating it"
  log "new container ${new:0:12} started; waiting until healthy ..."
  wait_container "$new" "$timeout" && return 0

  log "the new $service container is not healthy: rolling back to image ${old_image:7:12}"
  restore_image "$old_image" "$ref"
  compose up -d --no-deps --no-build --force-recreate "$service"
  new=$(running_ids "$service" | head -n 1)
  if [[ -n $new ]] && wait_container "$new" "$timeout"; then
    die "update of $service failed; rolled back to the previous image, which is healthy"
  fi
  die "update of $service failed and the rollback is not healthy either: see docs/OPERATIONS.md"
}

main() {
  local build=true timeout=180 service=''
  while (($#)); do
    case $1 in
      --no-build) build=false ;;
      --timeout)
        [[ ${2:-} =~ ^[0-9]+$ ]] || {
          usage >&2
          exit 2
        }
        timeout=$2
        shift
        ;;
      -h | --help)
        usage
        return 0
        ;;
      -*)
        log "unknown option: $1"
        usage >&2
        exit 2
        ;;
      *)
        [[ -z $service ]] || {
          log "one service at a time (got $service and $1)"
          exit 2
        }
        service=$1
        ;;
    esac
    shift
  done
  [[ -n $service ]] || {
    log "which service? e.g. scripts/rolling-update.sh api"
    usage >&2
    exit 2
  }

  command -v docker >/dev/null 2>&1 || die "docker is not installed"
  cd "$ROOT"
  local services
  services=$(compose config --services) || die "docker compose cannot read the configuration (see above)"
  grep -qx -- "$service" <<<"$services" || die "no service '$service' in the compose files; services: $(tr '\n' ' ' <<<"$services")"

  local first old_image ref why
  first=$(running_ids "$service" | head -n 1)
  if [[ -z $first ]]; then
    log "$service is not running: starting it"
    if $build; then compose build "$service"; fi
    compose up -d --no-deps "$service"
    first=$(running_ids "$service" | head -n 1)
    if [[ -z $first ]] || ! wait_container "$first" "$timeout"; then die "$service did not become healthy"; fi
    log "$service started"
    return 0
  fi
  old_image=$(docker inspect -f '{{.Image}}' "$first")
  ref=$(docker inspect -f '{{.Config.Image}}' "$first")

  if $build; then
    log "building $service ..."
    compose build "$service"
  fi
  compose pull --ignore-buildable "$service" || die "pulling the image of $service failed"

  if [[ $service == agent ]]; then
    log "warning: recreating agent ends every RDP session on this host (drain it first: docs/OPERATIONS.md#rolling-updates)"
  fi
  why=$(needs_replace "$first")
  if [[ -n $why ]]; then
    log "replacing $service in place: $why"
    update_replace "$service" "$timeout" "$old_image" "$ref"
  else
    log "updating $service with an overlapping container"
    update_overlap "$service" "$timeout" "$old_image" "$ref"
  fi
  log "$service updated and healthy (previous image ${old_image:7:12})"
}

main "$@"
