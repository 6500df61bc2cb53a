#!/usr/bin/env bash
# Restores a mongodump archive made by scripts/backup.sh.
# Run `scripts/restore.sh --help` for usage.
set -euo pipefail
shopt -s inherit_errexit

ROOT=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
readonly ROOT
# shellcheck source=scripts/lib/ops.sh
source "$ROOT/scripts/lib/ops.sh" restore

usage() {
  cat <<'EOF'
Usage: scripts/restore.sh [options] ARCHIVE|latest

Restores a gzipped mongodump archive (from scripts/backup.sh) with mongorestore, by default into
the docker compose `mongo` service. `latest` takes the newest archive of the database in --dir.

Without --drop, documents whose _id already exists are left as they are (mongorestore skips
them): restore into an empty database, or use --drop to replace each collection in the archive.
Stop the API first (--stop-api does it, and starts it again afterwards) so nothing writes while
the collections are replaced. A restore into the live database of the compose service then moves
every response cache generation in the compose `redis` service, so replicas running with
RESPONSE_CACHE=on answer from the restored data without a restart.

Options:
  --drop           drop each collection before restoring it
  --db NAME        database the archive holds (default lucid_rdp)
  --to-db NAME     restore into another database, e.g. to look at a backup beside the live data
  --dir DIR        where `latest` looks (default: $BACKUP_DIR, else ./backups in the repository)
  --uri URI        run the local mongorestore against URI instead of the compose service
  --stop-api       docker compose stop api before, docker compose start api after
  --yes            do not ask for confirmation (required without a terminal)
  -h, --help       this help

Exit status: 0 restored, 1 failed, 2 bad usage or not confirmed, 3 restored, but the response
cache generations could not be moved (the message says what to do).
MongoDB only: FerretDB has no mongorestore; use `npm run restore` there (docs/OPERATIONS.md#backup-and-restore).
EOF
}

# What `npm run restore` moves too (CACHED_KINDS and GENERATIONS_KEY in src/app/cache-generations.ts).
readonly CACHE_KEY=rdp:response-cache:generations
readonly CACHE_KINDS=(servers sessions pools assignments)
readonly CACHE_BY_HAND="redis-cli HINCRBY $CACHE_KEY <kind> 1 for each of ${CACHE_KINDS[*]}"

# After a restore into the live database: every response cache generation moves on in the compose
# redis service (the restore wrote past the API's stores, which move them on each write).
move_cache_generations() {
  if [[ -z $(compose ps -q redis 2>/dev/null) ]]; then
    log "response cache: the redis service is not running, so no generation was moved (replicas that cannot reach Redis serve nothing from the cache)"
    return 0
  fi
  # shellcheck disable=SC2016 # Lua, not shell
  if compose exec -T redis redis-cli EVAL 'for _, k in ipairs(ARGV) do redis.call("HINCRBY", KEYS[1], k, 1) end' 1 "$CACHE_KEY" "${CACHE_KINDS[@]}" >/dev/null; then
    log "response cache: moved the generations of ${CACHE_KINDS[*]}; replicas answer from the restored data"
    return 0
  fi
  log "response cache: could not move the generations in the redis service. API replicas running with RESPONSE_CACHE=on may answer from what they cached before the restore for up to 60 s: restart them, or run $CACHE_BY_HAND"
  return 3
}

main() {
  local dir=${BACKUP_DIR:-$ROOT/backups} db=lucid_rdp to_db='' uri='' archive='' drop=false stop_api=false yes=false
  while (($#)); do
    case $1 in
      --db | --to-db | --dir | --uri)
        [[ $# -ge 2 && -n $2 ]] || bad_usage "$1 needs a value"
        case $1 in
          --db) db=$2 ;;
          --to-db) to_db=$2 ;;
          --dir) dir=$2 ;;
          --uri) uri=$2 ;;
        esac
        shift
        ;;
      --drop) drop=true ;;
      --stop-api) stop_api=true ;;
      --yes) yes=true ;;
      -h | --help)
        usage
        return 0
        ;;
      -*) bad_usage "unknown option: $1" ;;
      *)
        [[ -z $archive ]] || bad_usage "one archive at a time"
        archive=$1
        ;;
    esac
    shift
  done
  [[ -n $archive ]] || bad_usage "give an archive file, or latest"
  [[ $db =~ ^[A-Za-z0-9_-]+$ ]] || bad_usage "--db must be a plain database name"
  [[ -z $to_db || $to_db =~ ^[A-Za-z0-9_-]+$ ]] || bad_usage "--to-db must be a plain database name"

  if [[ $archive == latest ]]; then
    archive=$(find "$dir" -maxdepth 1 -type f -name "$db-*.archive.gz" -printf '%T@ %p\n' 2>/dev/null | sort -rn | head -n 1 | cut -d' ' -f2-)
    [[ -n $archive ]] || die "no $db-*.archive.gz in $dir"
  fi
  [[ -f $archive ]] || die "$archive does not exist"
  gzip -t "$archive" 2>/dev/null || die "$archive is not a valid gzip archive (truncated copy?)"

  local target=${to_db:-$db}
  local -a args=(--archive --gzip "--nsInclude=$db.*")
  [[ -z $to_db ]] || args+=("--nsFrom=$db.*" "--nsTo=$to_db.*")
  ! $drop || args+=(--drop)

  local where="the compose mongo service"
  [[ -z $uri ]] || where=$uri
  if ! $yes; then
    [[ -t 0 ]] || bad_usage "not confirmed: pass --yes when running without a terminal"
    local answer
    read -r -p "Restore $archive into database $target on $where$($drop && echo ', dropping its collections first')? [y/N] " answer
    [[ $answer =~ ^[Yy] ]] || {
      log "not confirmed; nothing done"
      exit 2
    }
  fi

  cd "$ROOT"
  if $stop_api; then
    log "stopping api ..."
    compose stop api
    trap 'log "starting api again ..."; compose start api || log "could not start api: docker compose start api"' EXIT
  fi

  log "restoring $archive into $target ..."
  if [[ -n $uri ]]; then
    command -v mongorestore >/dev/null 2>&1 || die "mongorestore is not installed (package mongodb-database-tools)"
    mongorestore --uri="$uri" "${args[@]}" <"$archive" || die "mongorestore failed (see above)"
  else
    command -v docker >/dev/null 2>&1 || die "docker is not installed (or pass --uri to use a local mongorestore)"
    [[ -n $(compose ps -q mongo 2>/dev/null) ]] || die "the mongo service is not running (docker compose up -d mongo)"
    compose exec -T mongo mongorestore "${args[@]}" <"$archive" || die "mongorestore in the mongo container failed (see above)"
  fi
  log "restored $archive into $target"
  if [[ -n $uri ]]; then
    log "response cache: no generation was moved (this script reaches Redis only as the compose service). If API replicas running with RESPONSE_CACHE=on use $target, restart them, or run $CACHE_BY_HAND"
  elif [[ -z $to_db ]]; then
    local status=0
    move_cache_generations || status=$?
    return "$status"
  fi
}

main "$@"
