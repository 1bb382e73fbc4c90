#!/usr/bin/env bash
# A real OpenStack Keystone (Debian bookworm's, 22.x) on loopback for sluice's Keystone tests and CI.
# The entry point is scripts/keystone-dev.sh, which runs this script; both take the same commands:
#
#   scripts/keystone-dev.sh start    install what is missing, configure, bootstrap, serve, fixtures
#   scripts/keystone-dev.sh stop     stop the uWSGI this data dir started (pid + cmdline checked)
#   scripts/keystone-dev.sh status   exit 0 running and answering, 3 stopped, 1 broken
#   scripts/keystone-dev.sh env      shell exports for tests: eval "$(scripts/keystone-dev.sh env)"
#
# Environment (all optional):
#   KEYSTONE_DATA               state dir (config, sqlite, keys, logs, fixtures.json); default <repo>/tmp/keystone
#   KEYSTONE_PORT               port on 127.0.0.1, default 5000
#   KEYSTONE_SWIFT_URL          object-store endpoint, default http://127.0.0.1:8080/v1/AUTH_%(project_id)s
#   KEYSTONE_REGION             default RegionOne (fixed at the first start: bootstrap makes it)
#   KEYSTONE_TOKEN_EXPIRATION   token lifetime in seconds, default 3600
#   KEYSTONE_THREADS            uWSGI threads in its one worker process, default 8
#   KEYSTONE_START_TIMEOUT      seconds to wait for /v3 to answer, default 60
#   KEYSTONE_NO_INSTALL=1       never call apt-get; fail if a package is missing
#
# Every failure ends with one line `keystone.sh: error: ...` on stderr and a non-zero exit, and
# leaves running nothing that this invocation started. Passwords go to $KEYSTONE_DATA/secrets.json
# and fixtures.json (both 0600), never to the output.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
ME=keystone.sh
# How the user ran it (keystone-dev.sh passes its own path), for the hints in messages.
SELF=${KEYSTONE_CALLED_AS:-$0}
unset KEYSTONE_CALLED_AS

# Debian's python and tools only (keystone-manage and the uWSGI plugin are Debian's python 3.11):
# a pyenv or virtualenv python earlier in PATH must not be picked up.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
unset PYTHONPATH PYTHONHOME PYTHONSTARTUP PYTHONUSERBASE VIRTUAL_ENV PYENV_VERSION 2>/dev/null || true
for v in $(compgen -e | grep '^OS_' || true); do unset "$v"; done
export no_proxy=127.0.0.1,localhost NO_PROXY=127.0.0.1,localhost
PY=/usr/bin/python3

HOST=127.0.0.1
PORT=${KEYSTONE_PORT:-5000}
DATA=${KEYSTONE_DATA:-$REPO/tmp/keystone}
TOKEN_EXPIRATION=${KEYSTONE_TOKEN_EXPIRATION:-3600}
THREADS=${KEYSTONE_THREADS:-8}
START_TIMEOUT=${KEYSTONE_START_TIMEOUT:-60}
export KEYSTONE_REGION=${KEYSTONE_REGION:-RegionOne}
export KEYSTONE_SWIFT_URL=${KEYSTONE_SWIFT_URL:-'http://127.0.0.1:8080/v1/AUTH_%(project_id)s'}
export KEYSTONE_TOKEN_EXPIRATION=$TOKEN_EXPIRATION

# Debian packages: python3-keystone brings keystone-manage, keystone-wsgi-public and (as a
# dependency) the openstack CLI. Not `keystone`: that one adds a system service of its own on :5000.
PACKAGES=(python3-keystone python3-openstackclient uwsgi-core uwsgi-plugin-python3 curl)

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
T0=$(now_ms)
elapsed() { local ms=$(( $(now_ms) - ${1:-$T0} )); printf '%d.%ds' $((ms / 1000)) $((ms % 1000 / 100)); }
say() { printf '%s: %s\n' "$ME" "$*" >&2; }
die() { printf '%s: error: %s\n' "$ME" "$*" >&2; exit 1; }

case "$PORT" in ''|*[!0-9]*) die "KEYSTONE_PORT must be a number, not '$PORT'";; esac
[ "$PORT" -ge 1 ] && [ "$PORT" -le 65535 ] || die "KEYSTONE_PORT out of range: $PORT"
case "$DATA" in /*) ;; *) DATA="$PWD/$DATA";; esac
case "$DATA" in *[[:space:]]*) die "KEYSTONE_DATA must not contain spaces: '$DATA'";; esac

BASE_URL="http://$HOST:$PORT"
V3_URL="$BASE_URL/v3"
CONF="$DATA/keystone.conf"
INI="$DATA/uwsgi-keystone.ini"
PIDFILE="$DATA/uwsgi.pid"
LOG="$DATA/log"
MARKER="$DATA/.sluice-keystone"          # this dir is ours
BOOTSTRAPPED="$DATA/.bootstrapped"       # holds the python3-keystone version the DB was made with
FIXTURES="$DATA/fixtures.json"

# ------------------------------------------------------------------------------------ process ---
cmdline_of() { tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null || true; }
is_ours() {      # pid $1 is a uWSGI running this data dir's ini
  [ -n "${1:-}" ] && [ -d "/proc/$1" ] || return 1
  case "$(cmdline_of "$1")" in *uwsgi*"--ini $INI "*) return 0;; *) return 1;; esac
}
running_pid() {  # prints the pid of our uWSGI master, or fails
  [ -s "$PIDFILE" ] || return 1
  local pid; pid=$(tr -dc '0-9' <"$PIDFILE")
  is_ours "$pid" || return 1
  echo "$pid"
}
port_in_use() { (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null; }
answers() { curl -fsS -m "${1:-5}" -o /dev/null "$V3_URL" 2>/dev/null; }  # answers [SECONDS]

stop_pid() {     # stop our uWSGI master $1 and its workers; true when all are gone
  local pid=$1 kids k
  kids=$(cat /proc/"$pid"/task/*/children 2>/dev/null || true)
  kill -TERM "$pid" 2>/dev/null || true             # die-on-term: TERM shuts uWSGI down
  for _ in $(seq 1 100); do is_ours "$pid" || break; sleep 0.1; done
  if is_ours "$pid"; then kill -KILL "$pid" 2>/dev/null || true; sleep 0.2; fi
  for k in $kids; do if is_ours "$k"; then kill -KILL "$k" 2>/dev/null || true; fi; done
  sleep 0.1
  ! is_ours "$pid" && for k in $kids; do ! is_ours "$k" || return 1; done
}

# ------------------------------------------------------------------------------------ install ---
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo -n "$@"
  else return 1; fi
}
install_packages() {
  local missing=() p t
  for p in "${PACKAGES[@]}"; do installed "$p" || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "${KEYSTONE_NO_INSTALL:-0}" = 1 ] && die "missing Debian packages: ${missing[*]} (KEYSTONE_NO_INSTALL=1)"
  t=$(now_ms)
  say "installing ${missing[*]} (log: $LOG/apt.log)"
  # `apt-get update` only when apt does not know a package (a fresh machine has no lists).
  if apt-cache policy "${missing[@]}" 2>/dev/null | grep -q 'Candidate: (none)' \
     || [ "$(apt-cache policy "${missing[@]}" 2>/dev/null | grep -c 'Candidate:')" -lt ${#missing[@]} ]; then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update >>"$LOG/apt.log" 2>&1 \
      || die "apt-get update failed (see $LOG/apt.log)"
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      -o DPkg::Lock::Timeout=300 "${missing[@]}" >>"$LOG/apt.log" 2>&1 \
    || die "apt-get install ${missing[*]} failed: $(grep -E '^E:' "$LOG/apt.log" | tail -n 1) (see $LOG/apt.log)"
  for p in /usr/bin/keystone-manage /usr/bin/keystone-wsgi-public /usr/bin/uwsgi-core /usr/lib/uwsgi/plugins/python3_plugin.so; do
    [ -e "$p" ] || die "$p is missing after installing ${missing[*]}"
  done
  say "installed in $(elapsed "$t")"
}
keystone_version() { dpkg-query -W -f='${Version}' python3-keystone 2>/dev/null || echo unknown; }

# ------------------------------------------------------------------------------------- config ---
CONFIG_CHANGED=0
put_file() {     # put_file PATH: stdin becomes PATH (0600) when it differs
  local tmp; tmp=$(mktemp "$DATA/.new.XXXXXX")
  cat >"$tmp"
  if cmp -s "$tmp" "$1"; then rm -f "$tmp"; else chmod 600 "$tmp"; mv -f "$tmp" "$1"; CONFIG_CHANGED=1; fi
}
write_config() {
  put_file "$CONF" <<EOF
# Written by scripts/keystone/keystone.sh on each start; edit the script, not this file.
[DEFAULT]
log_file = $LOG/keystone.log
use_stderr = false
debug = false

[database]
# check_same_thread=false: the worker's threads share sqlite connections; without it, a
# connection that keystone leaks at start-up fails its rollback with a logged traceback
connection = sqlite:///$DATA/keystone.db?check_same_thread=false

[token]
provider = fernet
expiration = $TOKEN_EXPIRATION

[fernet_tokens]
key_repository = $DATA/fernet-keys

[credential]
key_repository = $DATA/credential-keys

[identity]
# bcrypt at its minimum cost: a test server on 2 cores must check passwords fast
password_hash_rounds = 4

[resource]
# tokens carry is_admin_project (true only for the admin project), so authtoken's
# X-Is-Admin-Project is False for every other project, as in a real cloud
admin_project_name = admin
admin_project_domain_name = Default

[cache]
# in-process cache: correct because uWSGI runs one worker process; without any cache
# a token validation costs hundreds of sqlite queries
enabled = true
backend = oslo_cache.dict

[oslo_policy]
# Keystone's built-in defaults; nothing in this file exists unless a test adds it
policy_file = $DATA/policy.yaml

[oslo_messaging_notifications]
driver = noop
EOF
  put_file "$INI" <<EOF
# Written by scripts/keystone/keystone.sh on each start; edit the script, not this file.
[uwsgi]
plugins = python3,http
wsgi-file = /usr/bin/keystone-wsgi-public
env = OS_KEYSTONE_CONFIG_FILES=$CONF
chdir = $DATA
# uWSGI's HTTP router (an event loop of its own) holds the client connections, with keep-alive,
# and hands each request to the worker over a private socket: an idle keep-alive connection
# costs no worker thread (with http11-socket each one held a thread for up to 4 s)
http = $HOST:$PORT
http-keepalive = 1
socket = @sluice-keystone-$PORT
# one worker process (the cache above is per process), several threads
master = true
processes = 1
threads = $THREADS
enable-threads = true
# load Keystone in the worker, not in the master before the fork (no sqlite connection crosses it)
lazy-apps = true
need-app = true
die-on-term = true
no-orphans = true
buffer-size = 65535
listen = 128
pidfile = $PIDFILE
daemonize = $LOG/uwsgi.log
EOF
}

keystone_manage() {  # keystone_manage ARGS...: output to the log only
  printf '== %s keystone-manage %s\n' "$(date -Is)" "$1" >>"$LOG/keystone-manage.log"
  /usr/bin/keystone-manage --config-file "$CONF" "$@" >>"$LOG/keystone-manage.log" 2>&1 \
    || die "keystone-manage $1 failed (see $LOG/keystone-manage.log)"
}

prepare_database() {
  local version; version=$(keystone_version)
  if [ -f "$BOOTSTRAPPED" ] && [ "$(cat "$BOOTSTRAPPED")" = "$version" ] && [ -f "$DATA/keystone.db" ]; then
    return 0
  fi
  local t; t=$(now_ms)
  if [ -f "$BOOTSTRAPPED" ]; then say "python3-keystone changed to $version: db_sync"; else say "first start: creating the database, keys and the admin"; fi
  keystone_manage db_sync
  # WAL: readers do not block the writer (sqlite's default journal gives "database is locked")
  "$PY" -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute("PRAGMA journal_mode=WAL"); c.close()' "$DATA/keystone.db"
  local who; who=(--keystone-user "$(id -un)" --keystone-group "$(id -gn)")
  [ -e "$DATA/fernet-keys/0" ] || keystone_manage fernet_setup "${who[@]}"
  [ -e "$DATA/credential-keys/0" ] || keystone_manage credential_setup "${who[@]}"
  # bootstrap is idempotent; the password comes through the environment, never argv
  OS_BOOTSTRAP_PASSWORD=$("$PY" "$HERE/fixtures.py" admin-password "$DATA") \
    keystone_manage bootstrap \
      --bootstrap-username admin --bootstrap-project-name admin --bootstrap-role-name admin \
      --bootstrap-service-name keystone --bootstrap-region-id "$KEYSTONE_REGION" \
      --bootstrap-public-url "$V3_URL" --bootstrap-internal-url "$V3_URL" --bootstrap-admin-url "$V3_URL"
  echo "$version" >"$BOOTSTRAPPED"
  say "database ready in $(elapsed "$t")"
}

# ------------------------------------------------------------------------------------- server ---
STARTED_PID=
LAUNCHED=0
cleanup_on_failure() {   # a failed start leaves nothing running that it started
  local rc=$?
  [ $rc -ne 0 ] && [ "$LAUNCHED" = 1 ] || return 0
  if [ -z "$STARTED_PID" ]; then   # failed before uWSGI wrote its pidfile: give it a moment
    for _ in $(seq 1 30); do [ -s "$PIDFILE" ] && break; sleep 0.1; done
    STARTED_PID=$(tr -dc '0-9' <"$PIDFILE" 2>/dev/null || true)
  fi
  if [ -n "$STARTED_PID" ] && is_ours "$STARTED_PID"; then stop_pid "$STARTED_PID" || true; fi
  rm -f "$PIDFILE"
}

launch() {
  rm -f "$PIDFILE"
  : >>"$LOG/uwsgi.log"
  LAUNCHED=1
  local from; from=$(wc -l <"$LOG/uwsgi.log")
  # uWSGI daemonizes itself (stdio to its log). Close our other descriptors first, so that it
  # holds no pipe or lock of the caller (a CI step would otherwise wait on it forever).
  (
    for fd in /proc/$BASHPID/fd/*; do
      fd=${fd##*/}; [ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null || true
    done
    exec /usr/bin/uwsgi-core --ini "$INI" </dev/null >>"$LOG/uwsgi.log" 2>&1
  ) || die "uWSGI did not start (see $LOG/uwsgi.log)"
  local deadline=$(( $(date +%s) + START_TIMEOUT )) pid=
  while [ "$(date +%s)" -lt "$deadline" ]; do
    if [ -z "$pid" ] && [ -s "$PIDFILE" ]; then
      pid=$(tr -dc '0-9' <"$PIDFILE"); is_ours "$pid" && STARTED_PID=$pid || pid=
    fi
    if tail -n +"$((from + 1))" "$LOG/uwsgi.log" | grep -q 'Address already in use'; then
      die "port $PORT on $HOST is busy (uWSGI could not bind it)"
    fi
    if [ -n "$pid" ]; then
      is_ours "$pid" || die "uWSGI exited during start-up: $(tail -n +"$((from + 1))" "$LOG/uwsgi.log" | grep -iE 'error|no app|exception' | tail -n 1) (see $LOG/uwsgi.log, $LOG/keystone.log)"
      # the router queues a request until the worker has loaded Keystone: wait no longer than the deadline
      answers $(( deadline - $(date +%s) > 0 ? deadline - $(date +%s) : 1 )) && return 0
    fi
    sleep 0.2
  done
  die "Keystone did not answer on $V3_URL within ${START_TIMEOUT}s (KEYSTONE_START_TIMEOUT; see $LOG/uwsgi.log)"
}

take_lock() {  # one start or stop at a time per data dir (fd 9 is closed before uWSGI starts)
  exec 9>>"$DATA/.lock"
  flock -w 300 9 || die "another $ME start/stop holds $DATA/.lock"
}

cmd_start() {
  mkdir -p "$DATA"
  if [ ! -e "$MARKER" ] && [ -n "$(ls -A "$DATA")" ]; then
    die "$DATA is not empty and was not made by $ME; set KEYSTONE_DATA to a new directory"
  fi
  touch "$MARKER"
  take_lock
  chmod 700 "$DATA"
  mkdir -p "$LOG"

  install_packages
  if [ -f "$DATA/keystone.db" ] && [ ! -f "$DATA/secrets.json" ]; then
    die "$DATA has a database but no secrets.json: remove $DATA to start afresh"
  fi
  "$PY" "$HERE/fixtures.py" secrets "$DATA" || die "cannot write $DATA/secrets.json"
  write_config

  local pid
  if pid=$(running_pid); then
    if [ "$CONFIG_CHANGED" = 1 ]; then
      say "configuration changed: restarting pid $pid"
      stop_pid "$pid" || die "could not stop pid $pid"
      rm -f "$PIDFILE"
    elif answers; then
      say "already running (pid $pid)"
    else
      die "pid $pid is running but $V3_URL does not answer (see $LOG/uwsgi.log; try: $SELF stop)"
    fi
  fi

  trap cleanup_on_failure EXIT
  if ! running_pid >/dev/null; then
    port_in_use && die "port $PORT on $HOST is busy (another process listens there; set KEYSTONE_PORT)"
    prepare_database
    local t; t=$(now_ms)
    launch
    say "serving $V3_URL (pid $(running_pid)) after $(elapsed "$t")"
  fi

  KEYSTONE_VERSION=$(keystone_version) "$PY" "$HERE/fixtures.py" apply "$DATA" "$V3_URL" 2>"$LOG/fixtures.out" \
    || die "$(tail -n 1 "$LOG/fixtures.out" | sed 's/^error: //') (see $LOG/fixtures.log, $LOG/keystone.log)"
  say "$(tail -n 1 "$LOG/fixtures.out")"
  trap - EXIT
  say "ready in $(elapsed): $V3_URL, fixtures in $FIXTURES"
}

cmd_stop() {
  local pid
  [ -e "$MARKER" ] && take_lock
  if pid=$(running_pid); then
    stop_pid "$pid" || die "pid $pid ($INI) is still running after TERM and KILL"
    rm -f "$PIDFILE"
    say "stopped pid $pid"
  else
    [ -e "$PIDFILE" ] && { rm -f "$PIDFILE"; say "removed a stale $PIDFILE"; }
    say "not running"
  fi
}

cmd_status() {
  local pid
  if pid=$(running_pid); then
    if answers; then echo "running: $V3_URL (pid $pid, Keystone $(keystone_version), data $DATA)"; return 0; fi
    echo "broken: pid $pid is running but $V3_URL does not answer (data $DATA)"; return 1
  fi
  if port_in_use; then echo "stopped (port $PORT is used by another process; data $DATA)"; else echo "stopped (data $DATA)"; fi
  return 3
}

cmd_env() {
  running_pid >/dev/null || die "not running (data $DATA): run $SELF start"
  [ -s "$FIXTURES" ] || die "$FIXTURES is missing: run $SELF start"
  printf 'export KEYSTONE_URL=%q\n' "$V3_URL"
  printf 'export KEYSTONE_FIXTURES=%q\n' "$FIXTURES"
  printf 'export KEYSTONE_DATA=%q\n' "$DATA"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  env) cmd_env ;;
  *) die "usage: $SELF start|stop|status|env" ;;
esac
