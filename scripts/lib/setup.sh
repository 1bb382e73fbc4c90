# Shared preamble of the smoke scripts (sourced after the caller sets ROOT, PACKAGES and
# SCRIPT_NAME): a clean environment for the swift CLI and curl, log/die, and the Debian
# packages and node_modules the script needs.

# The swift CLI and curl must talk to this run's proxy only: no credentials or HTTP proxies
# from the caller's environment.
unset ST_AUTH ST_USER ST_KEY ST_AUTH_VERSION OS_AUTH_URL OS_USERNAME OS_PASSWORD OS_AUTH_TOKEN \
  OS_STORAGE_URL OS_PROJECT_NAME OS_TENANT_NAME OS_AUTH_VERSION OS_AUTH_TYPE 2>/dev/null || true
export no_proxy=127.0.0.1,localhost NO_PROXY=127.0.0.1,localhost

log() { printf '%s\n' "$*" >&2; }
die() { log "$SCRIPT_NAME: $*"; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else die "need root or sudo to run: $*"; fi
}

# Installs whichever of PACKAGES is missing (apt-get), then node_modules if there are none.
install_prerequisites() {
  local missing=() p
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "$SCRIPT_NAME: installing ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
  fi
  [ -d "$ROOT/node_modules" ] || (cd "$ROOT" && npm ci)
}
