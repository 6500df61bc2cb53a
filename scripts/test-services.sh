#!/usr/bin/env bash
# Start/stop the real services the test suite talks to: FerretDB (MongoDB wire protocol, SQLite
# backend) on 127.0.0.1:27017, Redis on 127.0.0.1:6379, the xrdp/FreeRDP/X packages, and the
# tools the deployment tests run (prometheus, promtool, shellcheck), and Debian's chromium, which
# the browser tests drive through playwright-core (never a downloaded browser).
# Run `scripts/test-services.sh --help` for usage.
set -euo pipefail
shopt -s inherit_errexit

readonly FERRET_VERSIONS=(v1.24.2 v1.24.1 v1.23.1) # first one that builds and runs wins
readonly FERRET_MODULE=github.com/FerretDB/FerretDB
readonly MONGO_HOST=127.0.0.1 MONGO_PORT=27017 FERRET_DEBUG_ADDR=127.0.0.1:8089
readonly REDIS_HOST=127.0.0.1 REDIS_PORT=6379
readonly MONGODB_URI="mongodb://$MONGO_HOST:$MONGO_PORT/lucid_rdp_test"
readonly REDIS_URL="redis://$REDIS_HOST:$REDIS_PORT"
readonly XRDP_BINARIES=(/usr/sbin/xrdp /usr/bin/xfreerdp /usr/bin/Xvfb /usr/bin/Xvnc /usr/bin/xterm
  /usr/bin/xprintidle /usr/bin/xdotool /usr/bin/prometheus /usr/bin/promtool /usr/bin/shellcheck /usr/bin/chromium)
# xprintidle reads a desktop's input idle time (the service uses it); xdotool makes input in tests;
# chromium is the browser of the console and GraphiQL tests (driven by playwright-core).
readonly XRDP_PACKAGES=(xrdp xorgxrdp tigervnc-standalone-server freerdp2-x11 xvfb xterm xprintidle xdotool openssl
  prometheus shellcheck chromium)
# Fixed (compiled-in) pid files: if a daemon-mode xrdp/sesman holds them, every other xrdp,
# --nodaemon included, refuses to start. Our tests always use --nodaemon, which writes none.
readonly XRDP_PIDFILES=(/run/xrdp/xrdp.pid /run/xrdp/xrdp-sesman.pid)

STATE=${TEST_SERVICES_STATE_DIR:-/tmp/rdp-test-services}
readonly STATE
readonly FERRET_PIDFILE="$STATE/ferretdb.pid" REDIS_PIDFILE="$STATE/redis.pid"

usage() {
  cat <<EOF
Usage: $(basename "$0") start|stop|env|--help

  start   Make the test services available; idempotent, fast when everything already runs.
          - builds FerretDB (${FERRET_VERSIONS[*]}, first that works) into \$(go env GOPATH)/bin
            if it is missing or does not run;
          - starts FerretDB on $MONGO_HOST:$MONGO_PORT (SQLite backend, data wiped on each fresh
            start) unless something already answers there;
          - starts Redis on $REDIS_HOST:$REDIS_PORT unless it already answers PING;
          - apt-installs xrdp and friends, prometheus, shellcheck and chromium if one of
            ${XRDP_BINARIES[*]} is missing (needs root), and stops a system
            xrdp/xrdp-sesman daemon holding ${XRDP_PIDFILES[*]}.
  stop    Stop FerretDB and Redis, but only the ones this script started (pid files in the
          state dir). Idempotent.
  env     Print the environment the tests need, for: eval "\$($(basename "$0") env)"

State dir: $STATE (override with TEST_SERVICES_STATE_DIR). It holds pid files and the logs
ferretdb.log, redis.log, ferretdb-build-<version>.log.
EOF
}

log() { printf 'test-services: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# --- process / port helpers -------------------------------------------------------------------

# True when the TCP port accepts a connection.
port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }

# True when pid runs (zombies count as dead: PID 1 here may reap orphans late).
pid_alive() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat%% *} != Z ]]
}

# pid_is PID COMM: the pid runs and its command name is COMM (guards against pid reuse).
pid_is() { pid_alive "$1" && [[ "$(cat "/proc/$1/comm" 2>/dev/null)" == "$2" ]]; }

read_pidfile() {
  local pid
  pid=$(head -n1 "$1" 2>/dev/null | tr -dc '0-9') || true
  [[ -n $pid ]] && printf '%s' "$pid"
}

# kill_wait PID NAME: SIGTERM, wait up to 10 s, then SIGKILL.
kill_wait() {
  local pid=$1 name=$2 i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 100; i++)); do
    pid_alive "$pid" || return 0
    sleep 0.1
  done
  log "$name (pid $pid) ignored SIGTERM for 10 s, sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
}

# exec_clean CMD...: exec CMD with every fd above 2 closed (call it in a subshell). A daemon that
# outlives this script must not hold the caller's pipes (CI log readers wait for EOF) or our lock.
exec_clean() {
  local f n
  for f in /proc/"$BASHPID"/fd/*; do
    n=${f##*/}
    if ((n > 2)) && [[ -e $f ]]; then eval "exec $n>&-"; fi
  done
  exec "$@"
}

# as_root CMD...: run as root (directly, or through sudo when not root).
as_root() {
  if [[ $EUID -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo -n "$@"
  else
    die "need root for: $*"
  fi
}

apt_install() {
  local -a apt_opts=(-o DPkg::Lock::Timeout=900 -q)
  local i
  # Another apt/dpkg run (e.g. machine setup) holds the locks: wait for it (up to 15 min).
  for ((i = 0; i < 900; i++)); do
    pgrep -x 'apt(-get)?|dpkg' >/dev/null || break
    ((i % 30)) || log "waiting for a running apt-get/dpkg to finish ..."
    sleep 1
  done
  log "apt-get install ${*} ..."
  as_root apt-get "${apt_opts[@]}" update >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" install -y "$@" >&2
}

# --- FerretDB ---------------------------------------------------------------------------------

ensure_go() {
  if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then
    PATH="$PATH:/usr/local/go/bin"
  fi
  command -v go >/dev/null 2>&1 || die "go is not installed (needed to build FerretDB)"
}

ferret_bin() {
  local gopath
  gopath=$(go env GOPATH)
  printf '%s/bin/ferretdb' "${gopath%%:*}"
}

ferret_runs() { [[ -x $1 ]] && "$1" --version >/dev/null 2>&1; }

# Build FerretDB $1 into $2. Why not plain `go install .../cmd/ferretdb@vX`: that build succeeds,
# but the binary panics at startup ("Invalid build/version/version.txt file content. Please run
# `bin/task gen-version`"), because version.txt is generated by FerretDB's build tooling and is not
# in the module zip. So: take the same module source from the Go module cache (go mod download),
# add build/version/version.txt, and `go build` that copy. Uses the same module and build caches.
build_ferret() {
  local version=$1 bin=$2 buildlog="$STATE/ferretdb-build-$1.log" dir rc=0
  log "building FerretDB $version (log: $buildlog) ..."
  dir=$(mktemp -d "$STATE/ferretdb-src.XXXXXX") || return 1
  # (errexit does not apply inside a `|| rc=$?` context, hence the explicit `|| exit 1`s)
  (
    cd "$dir" || exit 1
    src=$(go mod download -json "$FERRET_MODULE@$version") || { printf '%s\n' "$src"; exit 1; }
    src=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' <<<"$src")
    [[ -n $src && -d $src ]] || { echo "go mod download gave no module dir"; exit 1; }
    cp -R "$src/." src || exit 1
    chmod -R u+w src || exit 1
    printf '%s\n' "$version" >src/build/version/version.txt || exit 1
    (cd src && go build -buildvcs=false -o "$dir/ferretdb" ./cmd/ferretdb) || exit 1
    "$dir/ferretdb" --version || exit 1
    mkdir -p "$(dirname "$bin")" || exit 1
    mv -f "$dir/ferretdb" "$bin" || exit 1
  ) >"$buildlog" 2>&1 || rc=$?
  rm -rf "$dir"
  if [[ $rc -ne 0 ]]; then
    log "FerretDB $version build failed (exit $rc). Output:"
    sed 's/^/    /' "$buildlog" >&2
    return 1
  fi
  log "FerretDB $version installed at $bin"
}

ensure_ferret_binary() {
  ensure_go
  local bin i version
  bin=$(ferret_bin)
  ferret_runs "$bin" && { printf '%s' "$bin"; return 0; }

  # A build started elsewhere (e.g. by machine setup) writes the same binary: wait, don't race it.
  if pgrep -f "go install $FERRET_MODULE" >/dev/null; then
    log "a 'go install $FERRET_MODULE' is already running, waiting for it (up to 30 min) ..."
    for ((i = 0; i < 1800; i++)); do
      pgrep -f "go install $FERRET_MODULE" >/dev/null || break
      sleep 1
    done
    ferret_runs "$bin" && { printf '%s' "$bin"; return 0; }
  fi
  if [[ -e $bin ]]; then
    log "$bin exists but does not run: $("$bin" --version 2>&1 | head -n1)"
  fi

  for version in "${FERRET_VERSIONS[@]}"; do
    if build_ferret "$version" "$bin"; then
      printf '%s' "$bin"
      return 0
    fi
  done
  die "could not build FerretDB (tried ${FERRET_VERSIONS[*]}); see $STATE/ferretdb-build-*.log"
}

start_ferret() {
  local bin pid i
  bin=$(ensure_ferret_binary)
  if port_open "$MONGO_HOST" "$MONGO_PORT"; then
    log "FerretDB/MongoDB already answers on $MONGO_HOST:$MONGO_PORT"
    return 0
  fi
  pid=$(read_pidfile "$FERRET_PIDFILE") || true
  if [[ -n $pid ]] && pid_is "$pid" ferretdb; then
    log "our FerretDB (pid $pid) runs but does not answer, restarting it"
    kill_wait "$pid" ferretdb
  fi
  rm -f "$FERRET_PIDFILE"
  rm -rf "${STATE:?}/ferretdb-data" "${STATE:?}/ferretdb-state"
  mkdir -p "$STATE/ferretdb-data" "$STATE/ferretdb-state"

  # setsid: own session, so a Ctrl-C in the calling terminal does not kill it.
  (exec_clean setsid "$bin" --handler=sqlite --sqlite-url="file:$STATE/ferretdb-data/" \
    --listen-addr="$MONGO_HOST:$MONGO_PORT" --telemetry=disable --debug-addr="$FERRET_DEBUG_ADDR" \
    --state-dir="$STATE/ferretdb-state" --log-level=warn \
    ) </dev/null >"$STATE/ferretdb.log" 2>&1 &
  pid=$!
  printf '%s\n' "$pid" >"$FERRET_PIDFILE"

  for ((i = 0; i < 300; i++)); do
    if port_open "$MONGO_HOST" "$MONGO_PORT"; then
      log "FerretDB started (pid $pid) on $MONGO_HOST:$MONGO_PORT"
      return 0
    fi
    if ! pid_alive "$pid"; then
      rm -f "$FERRET_PIDFILE"
      log "FerretDB exited during startup. Last lines of $STATE/ferretdb.log:"
      tail -n 30 "$STATE/ferretdb.log" | sed 's/^/    /' >&2
      exit 1
    fi
    sleep 0.1
  done
  log "FerretDB (pid $pid) did not accept connections on $MONGO_HOST:$MONGO_PORT within 30 s."
  tail -n 30 "$STATE/ferretdb.log" | sed 's/^/    /' >&2
  exit 1
}

stop_ferret() {
  local pid
  pid=$(read_pidfile "$FERRET_PIDFILE") || true
  if [[ -n $pid ]] && pid_is "$pid" ferretdb; then
    kill_wait "$pid" ferretdb
    log "FerretDB (pid $pid) stopped"
  fi
  rm -f "$FERRET_PIDFILE"
}

# --- Redis ------------------------------------------------------------------------------------

redis_pong() { [[ "$(timeout 3 redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null)" == PONG ]]; }

start_redis() {
  local i
  if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
    apt_install redis-server
  fi
  if redis_pong; then
    log "Redis already answers on $REDIS_HOST:$REDIS_PORT"
    return 0
  fi
  if port_open "$REDIS_HOST" "$REDIS_PORT"; then
    die "something listens on $REDIS_HOST:$REDIS_PORT but does not answer Redis PING"
  fi
  rm -f "$REDIS_PIDFILE"
  (exec_clean redis-server --daemonize yes --bind "$REDIS_HOST" --port "$REDIS_PORT" --save "" \
    --appendonly no --dir "$STATE" --pidfile "$REDIS_PIDFILE" --logfile "$STATE/redis.log") \
    </dev/null >&2
  for ((i = 0; i < 100; i++)); do
    if redis_pong; then
      log "Redis started (pid $(read_pidfile "$REDIS_PIDFILE" || echo '?')) on $REDIS_HOST:$REDIS_PORT"
      return 0
    fi
    sleep 0.1
  done
  tail -n 20 "$STATE/redis.log" 2>/dev/null | sed 's/^/    /' >&2 || true
  die "Redis did not answer PING within 10 s"
}

stop_redis() {
  local pid
  pid=$(read_pidfile "$REDIS_PIDFILE") || true
  if [[ -n $pid ]] && pid_is "$pid" redis-server; then
    kill_wait "$pid" redis-server
    log "Redis (pid $pid) stopped"
  fi
  rm -f "$REDIS_PIDFILE"
}

# --- xrdp -------------------------------------------------------------------------------------

ensure_xrdp() {
  local b missing=() pidfile pid comm i
  for b in "${XRDP_BINARIES[@]}"; do
    [[ -x $b ]] || missing+=("$b")
  done
  if ((${#missing[@]})); then
    log "missing: ${missing[*]}"
    apt_install "${XRDP_PACKAGES[@]}"
  fi

  for pidfile in "${XRDP_PIDFILES[@]}"; do
    [[ -e $pidfile ]] || continue
    comm=$(basename "$pidfile" .pid) # xrdp or xrdp-sesman
    pid=$(read_pidfile "$pidfile") || true
    if [[ -n $pid ]] && pid_is "$pid" "$comm"; then
      log "a daemon-mode $comm (pid $pid) holds $pidfile; stopping it"
      if [[ "$(cat /proc/1/comm 2>/dev/null)" == systemd ]] && command -v systemctl >/dev/null 2>&1; then
        as_root systemctl stop xrdp xrdp-sesman || log "systemctl stop xrdp xrdp-sesman failed"
      fi
      if pid_is "$pid" "$comm"; then
        as_root kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 50; i++)); do
          pid_alive "$pid" || break
          sleep 0.1
        done
        if pid_alive "$pid"; then as_root kill -KILL "$pid" 2>/dev/null || true; fi
      fi
    else
      log "removing stale $pidfile"
    fi
    as_root rm -f "$pidfile"
  done
}

# --- main -------------------------------------------------------------------------------------

cmd_start() {
  mkdir -p "$STATE"
  # One `start` at a time (a second one waits for the first one's build/startup). The daemons are
  # started through exec_clean, so they do not keep holding the lock.
  exec 9>"$STATE/start.lock"
  flock -w 3600 9 || die "timed out waiting for another '$0 start'"
  start_ferret
  start_redis
  ensure_xrdp
}

cmd_stop() {
  stop_ferret
  stop_redis
}

cmd_env() {
  printf 'export MONGODB_URI=%s\n' "$MONGODB_URI"
  printf 'export REDIS_URL=%s\n' "$REDIS_URL"
}

main() {
  case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    env) cmd_env ;;
    -h | --help | help) usage ;;
    *)
      usage >&2
      exit 2
      ;;
  esac
}

main "$@"
