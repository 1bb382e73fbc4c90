#!/usr/bin/env bash
# Interop smoke: Debian's real Swift 2.30 proxy (TempAuth, memcache) in front of sluice's
# account, container and object servers, driven by the real `swift` CLI and curl.
#
#   bash scripts/interop-swift-proxy.sh        (npm run interop)
#
# Installs swift-proxy, memcached and python3-swiftclient with apt-get when missing (needs root or
# sudo). Swift always reads /etc/swift/swift.conf, so the script writes its own there for the run
# and restores whatever was there before on exit. KEEP=1 keeps the work directory and logs.
# Prints PASS/FAIL per check; exits non-zero if any check fails or the cluster does not start.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PY=/usr/bin/python3
SWIFT_CONF=/etc/swift/swift.conf
HASH_PREFIX=sluice-interop-prefix
HASH_SUFFIX=sluice-interop-suffix
PACKAGES=(swift-proxy memcached python3-swiftclient curl)

SCRIPT_NAME=interop
# shellcheck source=lib/setup.sh
source "$ROOT/scripts/lib/setup.sh"

# --- packages --------------------------------------------------------------------------------
install_prerequisites

# --- one run at a time, work directory, cleanup on exit ---------------------------------------
WORK_PREFIX=/tmp/sluice-interop
# shellcheck source=lib/interop-run.sh
source "$ROOT/scripts/lib/interop-run.sh"
trap 'exit 143' TERM

mkdir -p "$WORK/etc" "$WORK/node/sda" "$WORK/node/sdb" "$WORK/node/sdc" "$WORK/logs" "$WORK/data" "$WORK/dl"

# --- swift.conf: ours in /etc/swift (Swift's fixed location) and in sluice's --swift-dir ----------
cat >"$WORK/etc/swift.conf" <<EOF
[swift-hash]
swift_hash_path_prefix = $HASH_PREFIX
swift_hash_path_suffix = $HASH_SUFFIX

[storage-policy:0]
name = Policy-0
default = yes
EOF
as_root mkdir -p /etc/swift
if [ -e "$SWIFT_CONF" ]; then
  cp -p "$SWIFT_CONF" "$WORK/swift.conf.orig"
  CONF_BACKED_UP=yes
fi
CONF_WRITTEN=yes
as_root cp "$WORK/etc/swift.conf" "$SWIFT_CONF"

free_port() {
  node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

wait_for_line() { # file pattern pid seconds
  local i
  for i in $(seq $(($4 * 10))); do
    if grep -Eq "$2" "$1" 2>/dev/null; then return 0; fi
    kill -0 "$3" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# --- sluice's storage servers (ephemeral ports, read back from their first line) ----------------
# Two workers each, as a storage node runs them (Swift's `workers`): every request may land on
# either process, so what one worker wrote the other must serve.
declare -A PORT
for kind in account container object; do
  node "$ROOT/bin/sluice.js" "$kind-server" --bind 127.0.0.1 --port 0 --devices "$WORK/node" --swift-dir "$WORK/etc" --workers 2 \
    >"$WORK/logs/$kind-server.log" 2>&1 &
  PIDS+=($!)
  wait_for_line "$WORK/logs/$kind-server.log" "listening on http://127.0.0.1:[0-9]+" $! 30 || die "sluice $kind-server did not start"
  PORT[$kind]=$(sed -nE 's#.*listening on http://127\.0\.0\.1:([0-9]+).*#\1#p' "$WORK/logs/$kind-server.log" | head -n1)
  log "interop: sluice $kind-server on port ${PORT[$kind]}"
done

# Three devices in three zones behind each server, three replicas: every write fans out.
for kind in account container object; do
  node "$ROOT/bin/sluice.js" ring build "$kind" --swift-dir "$WORK/etc" --part-power 8 --replicas 3 \
    --device "r1z1-127.0.0.1:${PORT[$kind]}/sda" \
    --device "r1z2-127.0.0.1:${PORT[$kind]}/sdb" \
    --device "r1z3-127.0.0.1:${PORT[$kind]}/sdc" >/dev/null
done

# --- memcached and the real Swift proxy -------------------------------------------------------
MC_PORT=$(free_port)
MC_USER=$(id -un)
[ "$(id -u)" -eq 0 ] && { getent passwd memcache >/dev/null && MC_USER=memcache || MC_USER=nobody; }
memcached -l 127.0.0.1 -p "$MC_PORT" -U 0 -u "$MC_USER" -m 16 >"$WORK/logs/memcached.log" 2>&1 &
PIDS+=($!)

PROXY_PORT=$(free_port)
cat >"$WORK/etc/proxy-server.conf" <<EOF
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $PROXY_PORT
workers = 0
user = $(id -un)
swift_dir = $WORK/etc
log_name = proxy-server
log_level = INFO

[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats tempauth proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
allow_account_management = true
node_timeout = 10
conn_timeout = 2

[filter:tempauth]
use = egg:swift#tempauth
user_test_tester = testing .admin
user_test2_tester2 = testing2

[filter:catch_errors]
use = egg:swift#catch_errors

[filter:gatekeeper]
use = egg:swift#gatekeeper

[filter:healthcheck]
use = egg:swift#healthcheck

[filter:proxy-logging]
use = egg:swift#proxy_logging

[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:$MC_PORT

[filter:listing_formats]
use = egg:swift#listing_formats
EOF
"$PY" /usr/bin/swift-proxy-server "$WORK/etc/proxy-server.conf" -v >"$WORK/logs/proxy-server.log" 2>&1 &
PROXY_PID=$!
PIDS+=("$PROXY_PID")
PROXY=http://127.0.0.1:$PROXY_PORT
for _ in $(seq 300); do
  curl -sf "$PROXY/healthcheck" >/dev/null 2>&1 && break
  kill -0 "$PROXY_PID" 2>/dev/null || die "swift-proxy-server exited"
  sleep 0.1
done
curl -sf "$PROXY/healthcheck" >/dev/null || die "swift-proxy-server not ready on $PROXY"
log "interop: swift-proxy-server on $PROXY, memcached on $MC_PORT, work dir $WORK"

# --- checks: the same swift-CLI smoke as the other interop script ---------------------------------
# shellcheck source=lib/swift-smoke.sh
source "$ROOT/scripts/lib/swift-smoke.sh"
[ "$FAILED" -eq 0 ]
