#!/usr/bin/env bash
# A multi-node cluster on one machine (issue 15; docs/deploy.md): three storage nodes on
# 127.0.0.1, 127.0.0.2 and 127.0.0.3 (each node's servers bound to its own address, with a config
# directory and a devices directory of its own), 3-replica rings built by swift-ring-builder (one
# device per node, zones 1-3), one memcached, and two sluice proxies (`sluice proxy --config`, with
# memcache_servers) on 127.0.0.1 and 127.0.0.2. 127.0.0.4 is the node the ring-change test adds.
#
#   bash scripts/multinode.sh test [--storage swift|sluice]    up, the failure tests, down
#   bash scripts/multinode.sh up   [--storage swift|sluice]    up, and print the layout
#   bash scripts/multinode.sh down                             stop what `up` started
#
# --storage swift (the default): Debian's Swift 2.30 account, container and object servers and,
# per node, their replicators, auditors and updaters, plus an rsync daemon (the account and
# container replicators copy whole databases with rsync; objects replicate with ssync). Every
# Swift command runs through scripts/lib/multinode-swift-in-dir.py, which points Swift at the
# node's own swift.conf: /etc/swift is never written, so this can run beside the interop scripts.
# --storage sluice: the same layout with sluice's storage servers, which have no replicators
# (the convergence test is skipped, with the reason printed).
#
# The tests (scripts/multinode-tests.ts) drive the nodes through the subcommands below, with
# MULTINODE_WORK set: node-stop N (SIGKILL to all of node N's processes), node-start N,
# replicate N... (each replicator once on those nodes), add-node (starts node 4, adds its device to
# every ring, rebalances, pushes the rings), get-nodes A C O (swift-get-nodes -a on the object
# ring). KEEP=1 keeps the work directory and logs. One run at a time: /tmp/sluice-multinode.lock
# while `up`/`test` run, and /tmp/sluice-multinode.current names the cluster that is up.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PY=/usr/bin/python3
IN_DIR="$ROOT/scripts/lib/multinode-swift-in-dir.py"
PACKAGES=(swift swift-account swift-container swift-object memcached rsync curl)
SCRIPT_NAME=multinode
STATE=/tmp/sluice-multinode.current
KINDS=(account container object)
PART_POWER=8

# shellcheck source=lib/setup.sh
source "$ROOT/scripts/lib/setup.sh"

node_ip() { echo "127.0.0.$1"; }

# --- process bookkeeping: one pid file per process under $WORK/run ------------------------------
# Each process runs in a session of its own (setsid), so stopping it stops its children (rsync).
spawn() { # name logfile cmd...
  local name=$1 logf=$2
  shift 2
  setsid "$@" >"$logf" 2>&1 9>&- </dev/null &
  echo $! >"$WORK/run/$name.pid"
}

stop_pid_file() { # pidfile [KILL]: TERM (then KILL after 5 s), or KILL at once
  local f=$1 pid
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  if [ "${2:-}" != KILL ]; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  rm -f "$f"
}

free_port_on_all() { # a port free on each of 127.0.0.1-4 (a node's servers share one port per kind)
  node -e '
    const net = require("net");
    const ips = ["127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4"];
    const bind = (port, ip) => new Promise((ok) => { const s = net.createServer(); s.once("error", () => ok(0)); s.listen(port, ip, () => { const p = s.address().port; s.close(() => ok(p)); }); });
    (async () => {
      for (let i = 0; i < 50; i++) {
        const p = await bind(0, ips[0]);
        if (p && (await Promise.all(ips.slice(1).map((ip) => bind(p, ip)))).every(Boolean)) return console.log(p);
      }
      process.exit(1);
    })();'
}

wait_http() { # url pidfile seconds [curl options]: until the URL answers 2xx
  local pid until
  pid=$(cat "$2")
  until=$((SECONDS + $3))
  while [ "$SECONDS" -lt "$until" ]; do
    curl -sf -o /dev/null "${@:4}" "$1" && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# --- configuration files ----------------------------------------------------------------------
write_swift_confs() { # n: the Swift servers' and daemons' configs of node n
  local n=$1 ip dir kind port
  ip=$(node_ip "$n")
  dir="$WORK/node$n"
  for kind in "${KINDS[@]}"; do
    port=$(port_of "$kind")
    cat >"$dir/etc/$kind-server.conf" <<EOC
[DEFAULT]
bind_ip = $ip
bind_port = $port
workers = 0
user = $(id -un)
swift_dir = $dir/etc
devices = $dir/srv
mount_check = false
recon_cache_path = $dir/cache
log_name = n$n-$kind
log_level = INFO

[pipeline:main]
pipeline = healthcheck $kind-server

[filter:healthcheck]
use = egg:swift#healthcheck

[app:$kind-server]
use = egg:swift#$kind

[$kind-replicator]
interval = 60
rsync_module = rsync://{replication_ip}:$RSYNC_PORT/node
$([ "$kind" = object ] && printf 'sync_method = ssync\n')

[$kind-auditor]
interval = 60

[$kind-updater]
interval = 60
EOC
  done
  # One module per node, the node's devices directory: rsync_module above names the peer's
  # address, the same port on every node, and the module.
  cat >"$dir/etc/rsyncd.conf" <<EOC
uid = $(id -u)
gid = $(id -g)
use chroot = no
pid file = $dir/run/rsyncd.pid
[node]
path = $dir/srv
read only = false
lock file = $dir/run/rsyncd.lock
EOC
}

port_of() { case "$1" in account) echo "$PORT_ACCOUNT" ;; container) echo "$PORT_CONTAINER" ;; object) echo "$PORT_OBJECT" ;; esac; }

# --- storage nodes ----------------------------------------------------------------------------
swift_cmd() { # n /usr/bin/swift-X args...: a Swift command with node n's swift.conf
  local n=$1
  shift
  "$PY" "$IN_DIR" "$WORK/node$n/etc" "$@"
}

start_node() { # n
  local n=$1 ip kind port d
  ip=$(node_ip "$n")
  if [ "$STORAGE" = swift ]; then
    for kind in "${KINDS[@]}"; do
      spawn "n$n-$kind-server" "$WORK/logs/n$n-$kind-server.log" "$PY" "$IN_DIR" "$WORK/node$n/etc" "/usr/bin/swift-$kind-server" "$WORK/node$n/etc/$kind-server.conf" -v
    done
  else
    for kind in "${KINDS[@]}"; do
      spawn "n$n-$kind-server" "$WORK/logs/n$n-$kind-server.log" node "$BUNDLE_RUN" "$kind-server" --bind "$ip" --port "$(port_of "$kind")" --devices "$WORK/node$n/srv" --swift-dir "$WORK/node$n/etc"
    done
  fi
  # Swift's servers have the healthcheck filter in their pipeline; sluice's answer OPTIONS.
  local probe=(/healthcheck)
  [ "$STORAGE" = swift ] || probe=(/ -X OPTIONS)
  for kind in "${KINDS[@]}"; do
    port=$(port_of "$kind")
    wait_http "http://$ip:$port${probe[0]}" "$WORK/run/n$n-$kind-server.pid" 90 "${probe[@]:1}" || die "node $n: $kind server did not start on $ip:$port"
  done
  if [ "$STORAGE" = swift ]; then
    spawn "n$n-rsyncd" "$WORK/logs/n$n-rsyncd.log" rsync --daemon --no-detach --config="$WORK/node$n/etc/rsyncd.conf" --address="$ip" --port="$RSYNC_PORT"
    for d in account-replicator container-replicator object-replicator account-auditor container-auditor object-auditor container-updater object-updater; do
      kind=${d%%-*}
      spawn "n$n-$d" "$WORK/logs/n$n-$d.log" "$PY" "$IN_DIR" "$WORK/node$n/etc" "/usr/bin/swift-$d" "$WORK/node$n/etc/$kind-server.conf" -v
    done
  fi
}

stop_node() { # n: every process of node n killed at once, as a node that crashed loses them
  local f
  for f in "$WORK/run/n$1-"*.pid; do stop_pid_file "$f" KILL; done
}

make_node_dirs() { # n
  mkdir -p "$WORK/node$1/etc" "$WORK/node$1/srv/d$1" "$WORK/node$1/cache" "$WORK/node$1/run"
  cp "$WORK/swift.conf" "$WORK/node$1/etc/swift.conf"
  # The rings as they are now (node 4 starts before the rings naming it are pushed).
  if [ -f "$WORK/rings/object.ring.gz" ]; then cp "$WORK"/rings/*.ring.gz "$WORK/node$1/etc/"; fi
  if [ "$STORAGE" = swift ]; then write_swift_confs "$1"; fi
}

# --- rings ------------------------------------------------------------------------------------
# swift-ring-builder command lines, all run by scripts/lib/multinode-ring-builder.py in one
# Python process (the CLI's own main() per line): nine separate swift-ring-builder processes took
# 90 s on a busy 2-core machine, nearly all of it Python starting and importing Swift.
ring_builder() { # 'BUILDER command args' ...
  "$PY" "$ROOT/scripts/lib/multinode-ring-builder.py" "$@" >>"$WORK/logs/rings.log" 2>&1 || die "swift-ring-builder failed; see $WORK/logs/rings.log"
}

# Every ring file to every node and proxy, each as a rename, so a reader sees the old file or
# the new one and the file's mtime changes (what Swift's and sluice's ring reload look at).
push_rings() {
  local dest kind
  for dest in "$WORK"/node*/etc "$WORK"/proxy-*/etc; do
    for kind in "${KINDS[@]}"; do
      cp "$WORK/rings/$kind.ring.gz" "$dest/.$kind.ring.gz.tmp"
      mv -f "$dest/.$kind.ring.gz.tmp" "$dest/$kind.ring.gz"
    done
  done
}

build_rings() { # 3 replicas, one device per node, zones 1-3
  local kind lines=()
  mkdir -p "$WORK/rings"
  for kind in "${KINDS[@]}"; do
    lines+=("$WORK/rings/$kind.builder create $PART_POWER 3 1"
      "$WORK/rings/$kind.builder add r1z1-$(node_ip 1):$(port_of "$kind")/d1 100 r1z2-$(node_ip 2):$(port_of "$kind")/d2 100 r1z3-$(node_ip 3):$(port_of "$kind")/d3 100"
      "$WORK/rings/$kind.builder rebalance")
  done
  ring_builder "${lines[@]}"
}

add_node4() {
  local kind lines=() starting
  make_node_dirs 4
  # The node starts while the rings change; they are pushed once both are done.
  start_node 4 &
  starting=$!
  for kind in "${KINDS[@]}"; do
    # The rings were built moments ago: pretend_min_part_hours_passed lets partitions move now,
    # as they may once min_part_hours (1) have passed.
    lines+=("$WORK/rings/$kind.builder add r1z4-$(node_ip 4):$(port_of "$kind")/d4 100"
      "$WORK/rings/$kind.builder pretend_min_part_hours_passed"
      "$WORK/rings/$kind.builder rebalance")
  done
  ring_builder "${lines[@]}"
  wait "$starting" || die "node 4 did not start"
  push_rings
}

# --- proxies ----------------------------------------------------------------------------------
proxy_dir() { # name ip: the proxy's swift_dir and a free port for it (its config is written by multinode-setup.ts)
  mkdir -p "$WORK/proxy-$1/etc"
  cp "$WORK/swift.conf" "$WORK/proxy-$1/etc/swift.conf"
  echo "$2:$(free_port_on_all)" >"$WORK/run/proxy-$1.addr"
}

# --- up / down --------------------------------------------------------------------------------
# The command line compiled once (as `npm run build` does) into a directory under the
# repository's tmp/, where node_modules resolves: bin/sluice.js would run every process through
# tsx, several seconds per start on a busy 2-core machine. The same step writes the proxies'
# configs (scripts/lib/multinode-setup.ts).
setup_bundle_and_proxies() {
  BUNDLE_DIR=$(mktemp -d "$ROOT/tmp/multinode-cli.XXXXXX")
  echo "$BUNDLE_DIR" >"$WORK/run/bundle-dir"
  BUNDLE_RUN="$BUNDLE_DIR/run.mjs"
  (cd "$ROOT" && npx tsx scripts/lib/multinode-setup.ts "$BUNDLE_DIR" "$WORK" "$MEMCACHED_PORT" "a=$(cat "$WORK/run/proxy-a.addr")" "b=$(cat "$WORK/run/proxy-b.addr")") >"$WORK/logs/setup.log" 2>&1
}

up() {
  local t0 n name
  t0=$SECONDS
  if [ -f "$STATE" ] && [ -d "$(cat "$STATE")" ]; then die "a cluster is up in $(cat "$STATE"); run: bash scripts/multinode.sh down"; fi
  mkdir -p "$ROOT/tmp"
  WORK=$(mktemp -d /tmp/sluice-multinode-"$STORAGE".XXXXXX)
  echo "$WORK" >"$STATE"
  mkdir -p "$WORK/run" "$WORK/logs"
  PORT_ACCOUNT=$(free_port_on_all)
  PORT_CONTAINER=$(free_port_on_all)
  PORT_OBJECT=$(free_port_on_all)
  RSYNC_PORT=$(free_port_on_all)
  MEMCACHED_PORT=$(free_port_on_all)
  printf 'PORT_ACCOUNT=%s\nPORT_CONTAINER=%s\nPORT_OBJECT=%s\nRSYNC_PORT=%s\nMEMCACHED_PORT=%s\nSTORAGE=%s\n' \
    "$PORT_ACCOUNT" "$PORT_CONTAINER" "$PORT_OBJECT" "$RSYNC_PORT" "$MEMCACHED_PORT" "$STORAGE" >"$WORK/run/ports.env"
  cat >"$WORK/swift.conf" <<EOC
[swift-hash]
swift_hash_path_prefix = multinode-$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')
swift_hash_path_suffix = multinode-$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')

[storage-policy:0]
name = Policy-0
default = yes
EOC
  proxy_dir a 127.0.0.1
  proxy_dir b 127.0.0.2
  # The two slow steps side by side: the bundle (esbuild) and the rings (swift-ring-builder).
  setup_bundle_and_proxies &
  local setup=$!
  build_rings
  wait "$setup" || { cat "$WORK/logs/setup.log" >&2; die "building the command line or writing the proxies' configs failed"; }
  log "multinode: command line compiled, rings built in $((SECONDS - t0))s"
  BUNDLE_RUN="$(cat "$WORK/run/bundle-dir")/run.mjs"
  for n in 1 2 3; do make_node_dirs "$n"; done
  push_rings
  local as_user=()
  [ "$(id -u)" -ne 0 ] || as_user=(-u nobody)
  spawn memcached "$WORK/logs/memcached.log" memcached -l 127.0.0.1 -p "$MEMCACHED_PORT" -U 0 -m 32 "${as_user[@]}"
  # The proxies start beside the nodes: they read the rings, not the servers, to start.
  for name in a b; do
    spawn "proxy-$name" "$WORK/logs/proxy-$name.log" node "$BUNDLE_RUN" proxy --config "$WORK/proxy-$name/etc/proxy-server.conf"
  done
  local starting=()
  for n in 1 2 3; do
    start_node "$n" &
    starting+=($!)
  done
  for n in "${starting[@]}"; do wait "$n" || die "a storage node did not start"; done
  log "multinode: storage nodes up at $((SECONDS - t0))s"
  for name in a b; do
    wait_http "http://$(cat "$WORK/run/proxy-$name.addr")/healthcheck" "$WORK/run/proxy-$name.pid" 90 || die "proxy $name did not start"
  done
  echo $((SECONDS - t0)) >"$WORK/run/up-seconds"
  log "multinode: up in $(cat "$WORK/run/up-seconds")s ($STORAGE storage): proxies http://$(cat "$WORK/run/proxy-a.addr") and http://$(cat "$WORK/run/proxy-b.addr"), memcached 127.0.0.1:$MEMCACHED_PORT, work dir $WORK"
}

down() {
  local f
  [ -f "$STATE" ] || { log "multinode: nothing is up"; return 0; }
  WORK=$(cat "$STATE")
  if [ -d "$WORK/run" ]; then
    # Proxies first (they drain), then everything else: TERM to all, up to 5 s, then KILL.
    for f in "$WORK"/run/proxy-*.pid; do stop_pid_file "$f"; done
    local pids=()
    for f in "$WORK"/run/*.pid; do
      [ -f "$f" ] || continue
      pids+=("$(cat "$f")")
      kill -TERM -- "-${pids[-1]}" 2>/dev/null || true
      rm -f "$f"
    done
    for _ in $(seq 50); do
      local alive=no
      for f in "${pids[@]}"; do kill -0 "$f" 2>/dev/null && alive=yes; done
      [ "$alive" = yes ] || break
      sleep 0.1
    done
    for f in "${pids[@]}"; do kill -KILL -- "-$f" 2>/dev/null || true; done
  fi
  if [ "${KEEP:-0}" = 1 ]; then
    log "multinode: kept $WORK"
  else
    [ -f "$WORK/run/bundle-dir" ] && rm -rf "$(cat "$WORK/run/bundle-dir")"
    rm -rf "$WORK"
  fi
  rm -f "$STATE"
}

show_failure_logs() {
  local f
  for f in "$WORK"/logs/*.log; do
    [ -f "$f" ] || continue
    log "----- last lines of $(basename "$f") -----"
    tail -n 15 "$f" >&2
  done
}

# Loads what `up` recorded, for the subcommands the tests call.
load_work() {
  WORK=${MULTINODE_WORK:-$( [ -f "$STATE" ] && cat "$STATE")}
  [ -n "$WORK" ] && [ -d "$WORK/run" ] || die "no cluster is up"
  # shellcheck disable=SC1091
  source "$WORK/run/ports.env"
  BUNDLE_RUN="$(cat "$WORK/run/bundle-dir")/run.mjs"
}

# --- main -------------------------------------------------------------------------------------
cmd=${1:-test}
shift || true
STORAGE=swift
ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --storage) STORAGE=${2:-}; shift 2 ;;
    --storage=*) STORAGE=${1#--storage=}; shift ;;
    *) ARGS+=("$1"); shift ;;
  esac
done
case "$STORAGE" in swift | sluice) ;; *) die "--storage must be swift or sluice (got $STORAGE)" ;; esac

case "$cmd" in
  up | test)
    install_prerequisites
    exec 9>/tmp/sluice-multinode.lock
    flock -w 600 9 || die "another multinode run holds /tmp/sluice-multinode.lock"
    if [ "$cmd" = up ]; then
      trap 'rc=$?; [ $rc -eq 0 ] || { show_failure_logs; down; }; exit $rc' EXIT
      up
      exit 0
    fi
    trap 'rc=$?; trap - EXIT; [ $rc -eq 0 ] || show_failure_logs; down; exit $rc' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    up
    t0=$(date +%s)
    rc=0
    MULTINODE_WORK=$WORK MULTINODE_SCRIPT="$ROOT/scripts/multinode.sh" node --import tsx "$ROOT/scripts/multinode-tests.ts" || rc=$?
    log "multinode: up $(cat "$WORK/run/up-seconds")s, tests $(($(date +%s) - t0))s, ${SECONDS}s in all before shutdown"
    exit "$rc"
    ;;
  down) down ;;
  node-stop) load_work; stop_node "${ARGS[0]}" ;;
  node-start) load_work; start_node "${ARGS[0]}" ;;
  add-node) load_work; add_node4 ;;
  replicate) # n...: on each node given, each replicator once (`swift-*-replicator CONF once`), all side by side
    load_work
    pids=()
    for n in "${ARGS[@]}"; do
      for kind in "${KINDS[@]}"; do
        swift_cmd "$n" "/usr/bin/swift-$kind-replicator" "$WORK/node$n/etc/$kind-server.conf" once -v >>"$WORK/logs/n$n-$kind-replicate-once.log" 2>&1 &
        pids+=($!)
      done
    done
    for n in "${pids[@]}"; do wait "$n" || die "a replicator pass failed; see $WORK/logs/n*-replicate-once.log"; done
    ;;
  get-nodes) load_work; swift-get-nodes --swift-dir "$WORK/node1/etc" -a "$WORK/rings/object.ring.gz" "${ARGS[@]}" ;;
  *) die "usage: multinode.sh up|down|test [--storage swift|sluice]" ;;
esac
