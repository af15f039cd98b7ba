# shellcheck shell=bash
# Helpers for tests/run (and a later dev script): messages, free ports, waiting,
# a throwaway PostgreSQL cluster, the SMTP sink and the Samskab app itself.
# Source this file; every service is started on a private loopback port and
# keeps its files under $RUN_DIR (created by the caller) or its own temp dir.

say()     { printf '%s\n' "$*"; }
warn()    { printf 'tests/run: %s\n' "$*" >&2; }
die()     { warn "$*"; exit 1; }
section() { printf '\n==== %s ====\n' "$*"; }

# Run a command as root: directly, or through passwordless sudo.
as_root() {
    if [[ $EUID -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
        sudo -n "$@"
    else
        die "need root to run: $* (run it yourself once, then re-run tests/run)"
    fi
}

_APT_UPDATED=''
apt_install() {
    if [[ -z $_APT_UPDATED ]]; then
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq || die "apt-get update failed"
        _APT_UPDATED=1
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null \
        || die "apt-get install $* failed"
}

# free_port VAR: a random unused loopback port, stored in VAR. The range stays
# below Linux's ephemeral ports (32768+) so no outgoing connection takes it
# between this check and the service binding it.
_USED_PORTS=" "
free_port() {
    local -n _fp_out=$1
    local _fp_try _fp_n
    for _fp_n in $(seq 1 100); do
        _fp_try=$((20000 + RANDOM % 12000))
        [[ $_USED_PORTS == *" $_fp_try "* ]] && continue
        if python3 -c 'import socket, sys; socket.socket().bind(("127.0.0.1", int(sys.argv[1])))' \
            "$_fp_try" 2>/dev/null; then
            _USED_PORTS+="$_fp_try "
            _fp_out=$_fp_try
            return 0
        fi
    done
    die "found no free port after $_fp_n tries"
}

# wait_for_port PORT SECONDS PID: until something accepts TCP on 127.0.0.1:PORT.
wait_for_port() {
    local port=$1 deadline=$((SECONDS + $2)) pid=$3
    until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
        kill -0 "$pid" 2>/dev/null || return 1
        ((SECONDS < deadline)) || return 1
        sleep 0.2
    done
}

# wait_for_ok URL SECONDS PID: until GET URL answers 200, while PID lives.
wait_for_ok() {
    local url=$1 deadline=$((SECONDS + $2)) pid=$3
    until node -e 'fetch(process.argv[1], { signal: AbortSignal.timeout(3000) })
            .then((r) => process.exit(r.status === 200 ? 0 : 1), () => process.exit(1))' "$url"; do
        kill -0 "$pid" 2>/dev/null || return 1
        ((SECONDS < deadline)) || return 1
        sleep 0.5
    done
}

# stop_pid PID: TERM, then KILL after 15 s; reaps it when it is our child.
stop_pid() {
    local pid=$1 _
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 1 75); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.2
    done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    return 0
}

# Print the end of a log file, framed, to stderr.
show_log() {
    local file=$1 lines=${2:-200}
    {
        printf -- '---- last %s lines of %s ----\n' "$lines" "$file"
        tail -n "$lines" "$file" 2>/dev/null
        printf -- '---- end of %s ----\n' "$file"
    } >&2
}

# ---------------------------------------------------------------- PostgreSQL
# pg_start: initdb + pg_ctl start of a throwaway cluster in its own temp dir.
# Sets PG_BIN PG_DIR PG_PORT PG_URL (the maintenance database) PG_STARTED.
PG_DIR=''
PG_STARTED=''
as_pg() {
    if [[ $EUID -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_find_bin() {
    # shellcheck disable=SC2012 # version-sorted directory names, no odd characters
    PG_BIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
    [[ -x ${PG_BIN:-}/initdb ]]
}

pg_start() {
    pg_find_bin || die "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin (set PGBIN)"
    if [[ $EUID -eq 0 ]] && ! id postgres >/dev/null 2>&1; then
        say "creating system user postgres to run the throwaway cluster"
        useradd --system --no-create-home --shell /usr/sbin/nologin postgres
    fi
    PG_DIR=$(mktemp -d /tmp/samskab-pg.XXXXXX)
    [[ $EUID -eq 0 ]] && chown postgres: "$PG_DIR"
    free_port PG_PORT

    as_pg "$PG_BIN/initdb" -D "$PG_DIR/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 \
        --no-sync >"$PG_DIR/initdb.log" 2>&1 \
        || { show_log "$PG_DIR/initdb.log"; die "initdb failed"; }
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/postgres.log" -w -t 60 \
        -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
        start >/dev/null \
        || { show_log "$PG_DIR/postgres.log"; die "PostgreSQL did not start"; }
    PG_STARTED=1
    # shellcheck disable=SC2034 # used by the caller
    PG_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres"
    say "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT ($PG_DIR)"
}

# pg_createdb NAME: a fresh, empty database in the throwaway cluster.
pg_createdb() {
    "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres "$1"
}

pg_stop() {
    if [[ -n $PG_STARTED ]]; then
        as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 30 stop >/dev/null 2>&1 \
            || as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w -t 30 stop >/dev/null 2>&1
        PG_STARTED=
    fi
    if [[ -n $PG_DIR ]]; then
        [[ -n ${LOG_KEEP_DIR:-} ]] && cp "$PG_DIR/postgres.log" "$LOG_KEEP_DIR/" 2>/dev/null
        rm -rf "$PG_DIR"
        PG_DIR=
    fi
}

# ---------------------------------------------------------------- SMTP sink
# smtp_start: aiosmtpd writing every message into a Maildir.
# Sets SMTP_PORT SMTP_DIR SMTP_PID.
SMTP_PID=''
smtp_start() {
    free_port SMTP_PORT
    SMTP_DIR=$RUN_DIR/maildir
    python3 -m aiosmtpd -n -l "127.0.0.1:$SMTP_PORT" -c aiosmtpd.handlers.Mailbox "$SMTP_DIR" \
        >"$RUN_DIR/smtp.log" 2>&1 &
    SMTP_PID=$!
    wait_for_port "$SMTP_PORT" 30 "$SMTP_PID" \
        || { show_log "$RUN_DIR/smtp.log"; die "SMTP sink did not start"; }
    say "SMTP sink on 127.0.0.1:$SMTP_PORT, Maildir $SMTP_DIR"
}

smtp_stop() {
    [[ -n $SMTP_PID ]] && stop_pid "$SMTP_PID"
    SMTP_PID=
}

# ---------------------------------------------------------------- test OpenID Provider
# oidc_start: tests/oidc/server.mjs (npm oidc-provider) issuing MitID-shaped claims.
# Sets OIDC_PORT OIDC_ISSUER OIDC_PID. Needs `npm ci` in tests/oidc first (oidc_install).
OIDC_PID=''
OIDC_DIR=${OIDC_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../oidc" && pwd)}
oidc_install() {
    local stamp
    stamp=$(cat "$OIDC_DIR/package.json" "$OIDC_DIR/package-lock.json" | sha256sum | cut -c1-64)
    if [[ $(cat "$OIDC_DIR/node_modules/.samskab-stamp" 2>/dev/null) != "$stamp" ]]; then
        say "installing the test OpenID Provider's packages (npm ci)"
        (cd "$OIDC_DIR" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci in tests/oidc failed"
        printf '%s\n' "$stamp" >"$OIDC_DIR/node_modules/.samskab-stamp"
    fi
}

oidc_start() {
    free_port OIDC_PORT
    PORT=$OIDC_PORT node "$OIDC_DIR/server.mjs" >"$RUN_DIR/oidc.log" 2>&1 &
    OIDC_PID=$!
    wait_for_port "$OIDC_PORT" 30 "$OIDC_PID" \
        || { show_log "$RUN_DIR/oidc.log"; die "test OpenID Provider did not start"; }
    OIDC_ISSUER=http://127.0.0.1:$OIDC_PORT
    say "test OpenID Provider on $OIDC_ISSUER"
}

oidc_stop() {
    [[ -n $OIDC_PID ]] && stop_pid "$OIDC_PID"
    OIDC_PID=
}

# ---------------------------------------------------------------- the app
# app_start NAME [VAR=value ...]: `samskab serve --demo` on a free port with
# its own data dir, waiting for /readyz. Sets APP_PID APP_URL APP_LOG.
# Returns non-zero (after printing the server log) when it does not get ready.
APP_PID=''
app_start() {
    local name=$1
    shift
    local port data_dir
    free_port port
    data_dir=$RUN_DIR/app-$name
    mkdir -p "$data_dir"
    APP_LOG=$RUN_DIR/app-$name.log
    APP_URL=http://127.0.0.1:$port
    env -u SAMSKAB_DATABASE_URL \
        SAMSKAB_BIND="127.0.0.1:$port" \
        SAMSKAB_PUBLIC_URL="$APP_URL" \
        SAMSKAB_DATA_DIR="$data_dir" \
        SAMSKAB_COOKIE_SECURE=false \
        SAMSKAB_SESSION_KEY="$(head -c 64 /dev/urandom | base64 -w 0)" \
        SAMSKAB_LOG="${SAMSKAB_LOG:-info}" \
        "$@" \
        "$APP_BIN" serve --demo >"$APP_LOG" 2>&1 &
    APP_PID=$!
    if ! wait_for_ok "$APP_URL/readyz" 120 "$APP_PID"; then
        show_log "$APP_LOG"
        warn "the app ($name) did not answer 200 on $APP_URL/readyz within 120 s"
        app_stop
        return 1
    fi
    say "app ($name) ready on $APP_URL, log $APP_LOG"
}

app_stop() {
    [[ -n $APP_PID ]] && stop_pid "$APP_PID"
    APP_PID=
}
