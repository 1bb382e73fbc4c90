# Shared by the two interop scripts (sourced after setup.sh, with SWIFT_CONF and a work directory
# prefix WORK_PREFIX set): one run at a time, since a run owns /etc/swift/swift.conf; the run's
# work directory, process list and counters; and a cleanup on exit that stops the processes,
# restores swift.conf, shows the logs' last lines on failure and removes the work directory
# (unless KEEP=1).

exec 9>/tmp/sluice-interop.lock
flock -w 300 9 || die "another interop run holds /tmp/sluice-interop.lock"

WORK=$(mktemp -d "$WORK_PREFIX.XXXXXX")
PIDS=()
CONF_BACKED_UP=no
CONF_WRITTEN=no
FAILED=0
PASSED=0

cleanup() {
  local rc=$?
  set +e
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  if [ "$CONF_BACKED_UP" = yes ]; then
    as_root cp -p "$WORK/swift.conf.orig" "$SWIFT_CONF"
  elif [ "$CONF_WRITTEN" = yes ]; then
    as_root rm -f "$SWIFT_CONF"
  fi
  if [ "$rc" -ne 0 ] || [ "$FAILED" -ne 0 ]; then
    for f in "$WORK"/logs/*.log; do
      [ -f "$f" ] || continue
      log "----- last lines of $(basename "$f") -----"
      tail -n 40 "$f" >&2
    done
  fi
  if [ "${KEEP:-0}" = 1 ]; then log "$SCRIPT_NAME: kept $WORK"; else rm -rf "$WORK"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
