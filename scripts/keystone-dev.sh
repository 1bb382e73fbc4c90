#!/usr/bin/env bash
# A real Keystone for sluice's development, tests and CI: the entry point. The work is done by
# scripts/keystone/keystone.sh (see scripts/keystone/README.md), which this runs unchanged.
#
#   scripts/keystone-dev.sh start    install what is missing, configure, bootstrap, serve, fixtures
#   scripts/keystone-dev.sh stop     stop the Keystone this data dir runs
#   scripts/keystone-dev.sh status   exit 0 running and answering, 3 stopped, 1 broken
#   scripts/keystone-dev.sh env      eval "$(scripts/keystone-dev.sh env)": KEYSTONE_URL, KEYSTONE_FIXTURES, KEYSTONE_DATA
#
# The same KEYSTONE_* variables as keystone.sh (KEYSTONE_DATA, KEYSTONE_PORT, KEYSTONE_SWIFT_URL, ...).
set -euo pipefail
KEYSTONE_CALLED_AS=$0 exec bash "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/keystone/keystone.sh" "$@"
