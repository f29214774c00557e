#!/usr/bin/env bash
# Run a command against a throwaway PostgreSQL cluster and Redis server.
#
#   tests/with_services.sh .venv/bin/pytest -x
#
# Both servers listen on 127.0.0.1 on free ports and keep their data in a temporary
# directory that is removed on exit, so nothing touches a system database or the
# embedded default's var/. The command sees the server-mode environment
# (DATABASE_URL, CELERY_BROKER_URL, fresh secrets) and its exit code is ours.
# KEEP_SERVICES_DIR=1 keeps the directory (data and logs) for inspection.
set -euo pipefail

if [[ $# -eq 0 ]]; then
    echo "usage: $0 COMMAND [ARG...]" >&2
    exit 2
fi

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [[ -x "$repo_root/.venv/bin/python" ]]; then
    py="$repo_root/.venv/bin/python"
else
    py="python3"
fi

log() { echo "with_services: $*" >&2; }

find_pg_bindir() {
    local candidate
    if [[ -n "${PG_BINDIR:-}" ]]; then
        echo "$PG_BINDIR"
        return
    fi
    # initdb on PATH may be a symlink into the real bindir, whose siblings we need.
    if candidate="$(command -v initdb 2>/dev/null)"; then
        candidate="$(dirname "$(readlink -f "$candidate")")"
        [[ -x "$candidate/pg_ctl" ]] && { echo "$candidate"; return; }
    fi
    # pg_config may come from libpq-dev alone, so check the server is really there.
    if candidate="$(pg_config --bindir 2>/dev/null)" && [[ -x "$candidate/initdb" ]]; then
        echo "$candidate"
        return
    fi
    for candidate in /usr/lib/postgresql/15/bin \
        $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        [[ -x "$candidate/initdb" ]] && { echo "$candidate"; return; }
    done
    return 1
}

if ! PG_BINDIR="$(find_pg_bindir)"; then
    log "no PostgreSQL server binaries found (initdb). Install them with:"
    log "  apt-get install -y postgresql-15   (or set PG_BINDIR)"
    exit 1
fi
for tool in redis-server redis-cli; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        log "$tool not found. Install it with: apt-get install -y redis-server"
        exit 1
    fi
done

tmp="$(mktemp -d "${TMPDIR:-/tmp}/solidaire-services.XXXXXX")"
pg_data="$tmp/pgdata"
pg_sock="$tmp/pgsock"
pg_log="$tmp/postgres.log"
redis_dir="$tmp/redis"
redis_log="$tmp/redis.log"
redis_pid=""
child_pid=""
pg_started=""

# initdb and postgres refuse to run as root, so root runs them as the postgres user
# (or nobody, on machines where the server came without one).
as_pg=()
if [[ "$(id -u)" -eq 0 ]]; then
    pg_user="postgres"
    id "$pg_user" >/dev/null 2>&1 || pg_user="nobody"
    as_pg=(runuser -u "$pg_user" --)
fi
mkdir -p "$pg_sock" "$redis_dir" "$tmp/var"
touch "$pg_log"
if [[ ${#as_pg[@]} -gt 0 ]]; then
    chown "$pg_user" "$tmp" "$pg_sock" "$pg_log"
fi

pg() {
    # Run from the temp dir: the postgres user may not be able to read the caller's cwd.
    (cd "$tmp" && "${as_pg[@]}" "$@")
}

show_logs() {
    local f
    for f in "$pg_log" "$redis_log" "$tmp/initdb.log"; do
        [[ -s "$f" ]] || continue
        echo "----- $f (last 50 lines) -----" >&2
        tail -n 50 "$f" >&2
    done
}

cleanup() {
    local status=$?
    trap - EXIT INT TERM
    if [[ -n "$child_pid" ]] && kill -0 "$child_pid" 2>/dev/null; then
        kill -TERM "$child_pid" 2>/dev/null || true
        wait "$child_pid" 2>/dev/null || true
    fi
    if [[ -n "$pg_started" ]]; then
        pg "$PG_BINDIR/pg_ctl" -D "$pg_data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    if [[ -n "$redis_pid" ]]; then
        kill -TERM "$redis_pid" 2>/dev/null || true
        wait "$redis_pid" 2>/dev/null || true
    fi
    if [[ -n "${KEEP_SERVICES_DIR:-}" ]]; then
        log "kept $tmp"
    else
        rm -rf "$tmp"
    fi
    exit "$status"
}
on_signal() {
    local signal=$1 code=$2
    log "got SIG$signal, stopping"
    if [[ -n "$child_pid" ]]; then
        kill -"$signal" "$child_pid" 2>/dev/null || true
        wait "$child_pid" 2>/dev/null || true
        child_pid=""
    fi
    exit "$code"
}
trap cleanup EXIT
trap 'on_signal INT 130' INT
trap 'on_signal TERM 143' TERM

fail_start() {
    log "$1"
    show_logs
    exit 1
}

# Two distinct free ports, held open together so they cannot be the same one.
read -r pg_port redis_port < <("$py" - <<'EOF'
import socket

socks = [socket.socket() for _ in range(2)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))
for s in socks:
    s.close()
EOF
)

# --- PostgreSQL: durability off, this cluster lives for one command. ---
pg "$PG_BINDIR/initdb" -D "$pg_data" -U postgres --auth=trust -E UTF8 --no-locale --no-sync \
    >"$tmp/initdb.log" 2>&1 || fail_start "initdb failed"
pg_started=1
pg "$PG_BINDIR/pg_ctl" -D "$pg_data" -l "$pg_log" -w -t 60 start -o "\
 -c listen_addresses=127.0.0.1 -p $pg_port -c unix_socket_directories=$pg_sock\
 -c max_connections=200 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    >/dev/null 2>&1 || fail_start "PostgreSQL did not start"

# --- Redis: no persistence at all. ---
redis-server --bind 127.0.0.1 --port "$redis_port" --save '' --appendonly no \
    --daemonize no --dir "$redis_dir" --logfile "$redis_log" &
redis_pid=$!

ready=""
for _ in $(seq 1 150); do
    if "$PG_BINDIR/pg_isready" -q -h 127.0.0.1 -p "$pg_port" -U postgres \
        && [[ "$(redis-cli -h 127.0.0.1 -p "$redis_port" ping 2>/dev/null)" == "PONG" ]]; then
        ready=1
        break
    fi
    kill -0 "$redis_pid" 2>/dev/null || fail_start "redis-server exited"
    sleep 0.2
done
[[ -n "$ready" ]] || fail_start "services not ready after 30s"

"$PG_BINDIR/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres solidaire \
    || fail_start "createdb failed"

secrets="$("$py" - <<'EOF'
import base64
import os
import secrets

print(secrets.token_urlsafe(64))
# Same format as cryptography's Fernet.generate_key(), without needing the venv.
print(base64.urlsafe_b64encode(os.urandom(32)).decode())
print(secrets.token_urlsafe(36))  # 48 characters
EOF
)"
{
    read -r SECRET_KEY
    read -r FIELD_ENCRYPTION_KEYS
    read -r FIELD_HASH_KEY
} <<<"$secrets"

export DATABASE_URL="postgres://postgres@127.0.0.1:$pg_port/solidaire"
export CELERY_BROKER_URL="redis://127.0.0.1:$redis_port/0"
export TEST_REDIS_URL="$CELERY_BROKER_URL"
export SECRET_KEY FIELD_ENCRYPTION_KEYS FIELD_HASH_KEY
export SECURE_HTTPS=false
export ALLOWED_HOSTS=127.0.0.1,localhost,testserver
export PG_BINDIR
# Media, SMS files and the beat schedule go to the throwaway directory too.
export SOLIDAIRE_VAR_DIR="$tmp/var"
unset CELERY_BROKER_WRITE_URL PGHOST PGPORT PGUSER PGDATABASE PGPASSWORD

log "PostgreSQL on 127.0.0.1:$pg_port, Redis on 127.0.0.1:$redis_port"

# In the background so that a TERM to this script reaches the command at once;
# stdin is passed through explicitly (a background job would get /dev/null).
set +e
"$@" <&0 &
child_pid=$!
wait "$child_pid"
status=$?
child_pid=""
set -e

# A server that died mid-run explains failures better than the failures do.
if ! kill -0 "$redis_pid" 2>/dev/null; then
    log "redis-server died during the run"
    show_logs
    [[ $status -ne 0 ]] || status=1
elif ! "$PG_BINDIR/pg_isready" -q -h 127.0.0.1 -p "$pg_port"; then
    log "PostgreSQL died during the run"
    show_logs
    [[ $status -ne 0 ]] || status=1
fi
exit "$status"
