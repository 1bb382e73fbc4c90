#!/usr/bin/env bash
# Interop smoke, the other way round from scripts/interop-swift-proxy.sh: sluice's proxy
# (TempAuth, account ACLs) in front of Debian's REAL Swift 2.30 account, container and object
# servers, driven by the real `swift` CLI and curl.
#
#   bash scripts/interop-swift-servers.sh        (npm run interop:servers)
#
# Installs swift, swift-account, swift-container, swift-object and python3-swiftclient with
# apt-get when missing (needs root or sudo). Swift always reads /etc/swift/swift.conf, so the
# script writes its own there for the run and restores whatever was there before on exit. Rings
# are built with Swift's own swift-ring-builder. KEEP=1 keeps the work directory and logs.
# Prints PASS/FAIL per check and "N passed, N failed"; exits non-zero if any check fails or the
# cluster does not start.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PY=/usr/bin/python3
SWIFT_CONF=/etc/swift/swift.conf
HASH_PREFIX=sluice-interop-prefix
HASH_SUFFIX=sluice-interop-suffix
PACKAGES=(swift swift-account swift-container swift-object python3-swiftclient curl)
REPLICAS=${REPLICAS:-3}

SCRIPT_NAME=interop-servers
# shellcheck source=lib/setup.sh
source "$ROOT/scripts/lib/setup.sh"

case "$REPLICAS" in 1 | 3) ;; *) die "REPLICAS must be 1 or 3 (got $REPLICAS)" ;; esac

# --- packages --------------------------------------------------------------------------------
install_prerequisites

# --- one run at a time, work directory, cleanup on exit ---------------------------------------
WORK_PREFIX=/tmp/sluice-interop-servers
# shellcheck source=lib/interop-run.sh
source "$ROOT/scripts/lib/interop-run.sh"
trap 'exit 143' TERM

DEVICES=(sda sdb sdc)
DEVICES=("${DEVICES[@]:0:$REPLICAS}")
mkdir -p "$WORK/etc" "$WORK/logs" "$WORK/data" "$WORK/dl"
for d in "${DEVICES[@]}"; do mkdir -p "$WORK/node/$d"; done

# --- swift.conf: ours in /etc/swift (Swift's fixed location) and in the proxy's swift_dir -----------
cat >"$WORK/etc/swift.conf" <<EOC
[swift-hash]
swift_hash_path_prefix = $HASH_PREFIX
swift_hash_path_suffix = $HASH_SUFFIX

[storage-policy:0]
name = Policy-0
default = yes
EOC
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

wait_for_health() { # url pid seconds
  local i
  for i in $(seq $(($3 * 10))); do
    curl -sf "$1/healthcheck" >/dev/null 2>&1 && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# --- the real Swift storage servers (Debian's, run in the foreground; spec §7) ------------------
declare -A PORT
SERVER_USER=$(id -un)
for kind in account container object; do
  PORT[$kind]=$(free_port)
  cat >"$WORK/etc/$kind-server.conf" <<EOC
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = ${PORT[$kind]}
workers = 0
user = $SERVER_USER
swift_dir = $WORK/etc
devices = $WORK/node
mount_check = false
log_name = $kind-server
log_level = INFO

[pipeline:main]
pipeline = healthcheck $kind-server

[filter:healthcheck]
use = egg:swift#healthcheck

[app:$kind-server]
use = egg:swift#$kind
EOC
done

# Rings from Swift's own builder: one device per zone behind each server, every write fans out
# to REPLICAS devices. rebalance exits 1 for warnings (e.g. a fresh, balanced ring), 2 on error.
for kind in account container object; do
  builder="$WORK/etc/$kind.builder"
  swift-ring-builder "$builder" create 8 "$REPLICAS" 1 >/dev/null
  z=0
  for d in "${DEVICES[@]}"; do
    z=$((z + 1))
    swift-ring-builder "$builder" add "r1z$z-127.0.0.1:${PORT[$kind]}/$d" 1 >/dev/null
  done
  rc=0
  swift-ring-builder "$builder" rebalance >"$WORK/logs/ring-$kind.log" 2>&1 || rc=$?
  [ "$rc" -le 1 ] && [ -s "$WORK/etc/$kind.ring.gz" ] || { cat "$WORK/logs/ring-$kind.log" >&2; die "swift-ring-builder $kind rebalance failed ($rc)"; }
done

for kind in account container object; do
  "$PY" "/usr/bin/swift-$kind-server" "$WORK/etc/$kind-server.conf" -v >"$WORK/logs/$kind-server.log" 2>&1 &
  PIDS+=($!)
  wait_for_health "http://127.0.0.1:${PORT[$kind]}" $! 60 || die "swift-$kind-server did not start"
  log "interop-servers: swift-$kind-server (Swift 2.30) on port ${PORT[$kind]}"
done

# --- sluice's proxy alone, reading the Swift-built rings -----------------------------------------
cat >"$WORK/etc/proxy-server.conf" <<EOC
[DEFAULT]
bind_ip = 127.0.0.1
swift_dir = $WORK/etc

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

[filter:listing_formats]
use = egg:swift#listing_formats
EOC
node "$ROOT/bin/sluice.js" proxy --config "$WORK/etc/proxy-server.conf" --port 0 --workers 0 >"$WORK/logs/sluice-proxy.log" 2>&1 &
PROXY_PID=$!
PIDS+=("$PROXY_PID")
wait_for_line "$WORK/logs/sluice-proxy.log" "listening on http://127.0.0.1:[0-9]+" "$PROXY_PID" 60 || die "sluice proxy did not start"
PROXY=$(sed -nE 's#.*listening on (http://127\.0\.0\.1:[0-9]+).*#\1#p' "$WORK/logs/sluice-proxy.log" | head -n1)
wait_for_health "$PROXY" "$PROXY_PID" 30 || die "sluice proxy not ready on $PROXY"
log "interop-servers: sluice proxy on $PROXY, $REPLICAS replica(s), work dir $WORK"

# --- checks: the same swift-CLI smoke as the other interop script ---------------------------------
# shellcheck source=lib/swift-smoke.sh
source "$ROOT/scripts/lib/swift-smoke.sh"
[ "$FAILED" -eq 0 ]
