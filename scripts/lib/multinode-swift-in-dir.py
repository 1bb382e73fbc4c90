"""Runs one of Debian's Swift commands (a /usr/bin/swift-* script: a server, a replicator, an
auditor, an updater, swift-get-nodes) with swift.conf read from SWIFT_DIR instead of
/etc/swift, so every node of scripts/multinode.sh has a config directory of its own and the
machine's /etc/swift/swift.conf is never touched. Swift 2.30's set_swift_dir() moves
SWIFT_CONF_FILE and re-reads the hash path prefix/suffix; constraints and storage policies,
read once at import, are read again from the new file.

Usage: python3 multinode-swift-in-dir.py SWIFT_DIR /usr/bin/swift-COMMAND [ARGS...]
"""
import runpy
import sys

from swift.common import constraints, storage_policy
from swift.common.utils import set_swift_dir

if __name__ == '__main__':
    swift_dir, script = sys.argv[1], sys.argv[2]
    set_swift_dir(swift_dir)
    constraints.reload_constraints()
    storage_policy.reload_storage_policies()
    sys.argv = [script] + sys.argv[3:]
    runpy.run_path(script, run_name='__main__')
