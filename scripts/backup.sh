#!/usr/bin/env bash
# Takes a mongodump archive of the database and keeps the last N days of archives.
# Run `scripts/backup.sh --help` for usage.
set -euo pipefail
shopt -s inherit_errexit

ROOT=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
readonly ROOT
# shellcheck source=scripts/lib/ops.sh
source "$ROOT/scripts/lib/ops.sh" backup

usage() {
  cat <<'EOF'
Usage: scripts/backup.sh [--dir DIR] [--keep-days N] [--db NAME] [--uri URI]

Writes DIR/<db>-<UTC time>.archive.gz, a gzipped mongodump archive of the database, then deletes
archives of that database in DIR older than N days. Restore one with scripts/restore.sh.

  By default mongodump runs inside the docker compose `mongo` service:
    docker compose exec -T mongo mongodump --db lucid_rdp --archive --gzip
  With --uri it runs the mongodump on this machine against that server instead.

The archive is written under a temporary name and renamed once mongodump succeeded, so a file
with the final name is always complete; old archives are deleted only after a successful backup.
MongoDB only: FerretDB has no mongodump; use `npm run backup` there (docs/OPERATIONS.md#backup-and-restore).

Options:
  --dir DIR        where archives go (default: $BACKUP_DIR, else ./backups in the repository)
  --keep-days N    delete this database's archives older than N days (default 7; 0 keeps all)
  --db NAME        database to dump (default lucid_rdp)
  --uri URI        run the local mongodump against URI (e.g. mongodb://db.internal:27017)
  -h, --help       this help

Exit status: 0 done, 1 failed (nothing deleted), 2 bad usage. Schedule it with cron, e.g.
  15 2 * * * cd /opt/rdp-services-cluster && scripts/backup.sh >>/var/log/rdp-backup.log 2>&1
EOF
}

main() {
  local dir=${BACKUP_DIR:-$ROOT/backups} keep=7 db=lucid_rdp uri=''
  while (($#)); do
    case $1 in
      --dir | --keep-days | --db | --uri)
        [[ $# -ge 2 && -n $2 ]] || bad_usage "$1 needs a value"
        case $1 in
          --dir) dir=$2 ;;
          --keep-days) keep=$2 ;;
          --db) db=$2 ;;
          --uri) uri=$2 ;;
        esac
        shift
        ;;
      -h | --help)
        usage
        return 0
        ;;
      *) bad_usage "unknown argument: $1" ;;
    esac
    shift
  done
  [[ $keep =~ ^[0-9]+$ ]] || bad_usage "--keep-days must be a whole number of days"
  [[ $db =~ ^[A-Za-z0-9_-]+$ ]] || bad_usage "--db must be a plain database name"

  mkdir -p "$dir" || die "cannot create $dir"
  [[ -w $dir ]] || die "$dir is not writable"
  local name tmp
  name="$db-$(date -u +%Y%m%dT%H%M%SZ).archive.gz"
  tmp="$dir/.$name.partial"
  trap 'rm -f "$tmp"' EXIT

  log "dumping $db to $dir/$name ..."
  if [[ -n $uri ]]; then
    command -v mongodump >/dev/null 2>&1 || die "mongodump is not installed (package mongodb-database-tools)"
    mongodump --uri="$uri" --db="$db" --archive --gzip --quiet >"$tmp" || die "mongodump failed (see above)"
  else
    command -v docker >/dev/null 2>&1 || die "docker is not installed (or pass --uri to use a local mongodump)"
    cd "$ROOT"
    [[ -n $(compose ps -q mongo 2>/dev/null) ]] || die "the mongo service is not running (docker compose ps mongo)"
    compose exec -T mongo mongodump --db="$db" --archive --gzip --quiet >"$tmp" || die "mongodump in the mongo container failed (see above)"
  fi
  [[ -s $tmp ]] || die "mongodump wrote nothing"
  gzip -t "$tmp" 2>/dev/null || die "the archive is not valid gzip: not kept"
  chmod 600 "$tmp"
  mv "$tmp" "$dir/$name"
  trap - EXIT
  log "wrote $dir/$name ($(du -h "$dir/$name" | cut -f1))"

  if ((keep > 0)); then
    local old
    while IFS= read -r -d '' old; do
      rm -f "$old"
      log "deleted $old (older than $keep days)"
    done < <(find "$dir" -maxdepth 1 -type f -name "$db-*.archive.gz" -mmin +$((keep * 1440)) -print0)
  fi
}

main "$@"
