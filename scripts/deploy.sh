#!/usr/bin/env bash
# Deploys the docker compose stack: checks .env, builds, starts the databases first and waits for
# them, starts the rest, waits for every health check and /health, then prints the URLs.
# Run `scripts/deploy.sh --help` for usage.
set -euo pipefail
shopt -s inherit_errexit

ROOT=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
readonly ROOT
# shellcheck source=scripts/lib/ops.sh
source "$ROOT/scripts/lib/ops.sh" deploy
readonly DATABASES=(mongo redis)
readonly PLACEHOLDER_SECRET=CHANGE_ME

usage() {
  cat <<EOF
Usage: scripts/deploy.sh [--no-build] [--timeout SECONDS]

Deploys the stack in docker-compose.yml (plus any files named in COMPOSE_FILE in .env):
  1. checks .env: it exists; JWT_SECRET is set to at least 32 bytes and not the placeholder,
     or AUTH_SERVICE_URL is set; GRAFANA_ADMIN_PASSWORD is set; AGENT_HOST_ID is a host id
     (1-63 of a-z 0-9 -) and AGENT_REDIS_PASSWORD at least 16 of A-Z a-z 0-9 _ - and not the
     placeholder (the agent's Redis user, made by the redis service); warns if RDP_PUBLIC_HOST
     is localhost (users would get connection files pointing at their own machine);
  2. builds the images (skipped with --no-build) and pulls the others;
  3. starts ${DATABASES[*]} and waits until their health checks pass;
  4. starts every other service (api, the host agent of this machine, monitoring) and waits
     until each one is healthy;
  5. checks the API's /health, Prometheus's /-/ready and Grafana's /api/health through the
     published ports, and prints the URLs.

Options:
  --no-build         use the images already built
  --timeout SECONDS  how long to wait for each step to become healthy (default 180)
  -h, --help         this help

Environment: DEPLOY_HOST  host name used for the checks and printed URLs (default localhost).
Needs docker with the compose plugin (or docker-compose v2) and curl.
Exit status: 0 deployed, 1 a step failed (the message names it), 2 bad usage.
EOF
}

# env_value NAME: the last NAME=value in .env, without surrounding quotes ('' if unset).
env_value() {
  local value
  value=$(sed -n "s/^[[:space:]]*$1=//p" .env | tail -n 1)
  value=${value%$'\r'}
  if [[ $value =~ ^\"(.*)\"$ || $value =~ ^\'(.*)\'$ ]]; then value=${BASH_REMATCH[1]}; fi
  printf '%s' "$value"
}

check_env() {
  [[ -f .env ]] || die "no .env in $ROOT: cp .env.example .env, then set JWT_SECRET (or AUTH_SERVICE_URL), GRAFANA_ADMIN_PASSWORD and AGENT_REDIS_PASSWORD"
  local secret auth grafana public host_id agent_password problems=()
  secret=$(env_value JWT_SECRET)
  auth=$(env_value AUTH_SERVICE_URL)
  grafana=$(env_value GRAFANA_ADMIN_PASSWORD)
  public=$(env_value RDP_PUBLIC_HOST)
  host_id=$(env_value AGENT_HOST_ID)
  agent_password=$(env_value AGENT_REDIS_PASSWORD)
  if [[ -z $auth ]]; then
    if [[ -z $secret || $secret == "$PLACEHOLDER_SECRET" ]]; then
      problems+=("JWT_SECRET is not set (generate one: openssl rand -base64 48), and AUTH_SERVICE_URL is empty")
    elif (($(printf '%s' "$secret" | wc -c) < 32)); then
      problems+=("JWT_SECRET must be at least 32 bytes")
    fi
  fi
  [[ -n $grafana ]] || problems+=("GRAFANA_ADMIN_PASSWORD is not set")
  # The same rule as the agent's (src/domain/cluster/host-protocol.ts, HOST_ID_PATTERN).
  [[ $host_id =~ ^[a-z0-9][a-z0-9-]{0,62}$ ]] || problems+=("AGENT_HOST_ID '$host_id' must be 1-63 of a-z 0-9 - (not starting with -)")
  if [[ -z $agent_password || $agent_password == "$PLACEHOLDER_SECRET" ]]; then
    problems+=("AGENT_REDIS_PASSWORD is not set (generate one: openssl rand -hex 32)")
  elif ! [[ $agent_password =~ ^[A-Za-z0-9_-]{16,}$ ]]; then
    # It goes into the agent's REDIS_URL unescaped, and agent users need 16 characters.
    problems+=("AGENT_REDIS_PASSWORD must be at least 16 of A-Z a-z 0-9 _ -")
  fi
  if ((${#problems[@]})); then
    printf 'deploy: ERROR: .env: %s\n' "${problems[@]}" >&2
    exit 1
  fi
  if [[ -z $public || $public == localhost || $public == 127.0.0.1 ]]; then
    log "warning: RDP_PUBLIC_HOST is '${public:-localhost}': connection files will point users at their own machine"
  fi
}

# health SERVICE: the health status of the service's container (or its state without a health check).
health() {
  local id
  id=$(compose ps -a -q "$1" 2>/dev/null | head -n 1)
  [[ -n $id ]] || {
    echo missing
    return 0
  }
  docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' "$id" 2>/dev/null || echo missing
}

# explain SERVICE: the last health check output and log lines, for an error message.
explain() {
  local id
  id=$(compose ps -a -q "$1" 2>/dev/null | head -n 1)
  if [[ -n $id ]]; then
    log "last health check output of $1:"
    docker inspect -f '{{if .State.Health}}{{range .State.Health.Log}}{{.Output}}{{end}}{{end}}' "$id" 2>/dev/null | tail -n 5 | sed 's/^/    /' >&2 || true
  fi
  log "last log lines of $1:"
  compose logs --no-color --tail 30 "$1" 2>&1 | sed 's/^/    /' >&2 || true
}

# wait_healthy TIMEOUT SERVICE...: waits until every service is healthy; fails on unhealthy or exit.
wait_healthy() {
  local timeout=$1 deadline service status pending
  shift
  deadline=$((SECONDS + timeout))
  while :; do
    pending=()
    for service in "$@"; do
      status=$(health "$service")
      case $status in
        healthy) ;;
        unhealthy | exited | dead | missing)
          explain "$service"
          die "$service is $status"
          ;;
        *) pending+=("$service($status)") ;;
      esac
    done
    ((${#pending[@]})) || return 0
    if ((SECONDS >= deadline)); then
      for service in "${pending[@]}"; do explain "${service%%(*}"; done
      die "not healthy after ${timeout}s: ${pending[*]}"
    fi
    sleep 2
  done
}

# check_url NAME URL: GET URL succeeds (retries for up to 30 s: a published port may lag the health check).
check_url() {
  local i
  for ((i = 0; i < 15; i++)); do
    if curl -fsS -o /dev/null --max-time 5 "$2"; then
      log "$1 answers: $2"
      return 0
    fi
    sleep 2
  done
  die "$1 does not answer at $2 (is the port published and free on this host? see docs/OPERATIONS.md#port-conflicts)"
}

main() {
  local build=true timeout=180
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
      *)
        log "unknown argument: $1"
        usage >&2
        exit 2
        ;;
    esac
    shift
  done

  command -v docker >/dev/null 2>&1 || die "docker is not installed"
  command -v curl >/dev/null 2>&1 || die "curl is not installed (needed for the final checks)"
  cd "$ROOT"
  check_env
  compose config --quiet || die "docker compose cannot read the configuration (see above)"

  local services=() others=() service
  mapfile -t services < <(compose config --services)
  for service in "${services[@]}"; do
    [[ " ${DATABASES[*]} " == *" $service "* ]] || others+=("$service")
  done

  if $build; then
    log "building images ..."
    compose build
  fi
  log "pulling images ..."
  compose pull --ignore-buildable --quiet || die "pulling images failed (network or registry; see above)"

  log "starting ${DATABASES[*]} ..."
  compose up -d "${DATABASES[@]}"
  wait_healthy "$timeout" "${DATABASES[@]}"
  log "${DATABASES[*]} healthy"

  log "starting ${others[*]} ..."
  compose up -d
  wait_healthy "$timeout" "${others[@]}"
  log "all services healthy"

  local host=${DEPLOY_HOST:-localhost} rdp_host rdp_ports
  rdp_host=$(env_value RDP_PUBLIC_HOST)
  rdp_ports=$(env_value RDP_PORT_RANGE)
  check_url API "http://$host:8090/health"
  check_url Prometheus "http://$host:9091/-/ready"
  check_url Grafana "http://$host:3000/api/health"

  cat <<EOF

Deployed. URLs:
  GraphQL API + GraphiQL  http://$host:8090/graphql
  Health                  http://$host:8090/health  (/health/live, /health/ready)
  Metrics                 http://$host:8090/metrics
  Prometheus              http://$host:9091  (alerts: http://$host:9091/alerts)
  Grafana                 http://$host:3000  (user admin, GRAFANA_ADMIN_PASSWORD from .env)
  RDP servers             ${rdp_host:-localhost}, ports ${rdp_ports:-33890-33999}
Runbook: docs/OPERATIONS.md
EOF
}

main "$@"
