"""Runs Debian's Swift proxy (run_wsgi, as /usr/bin/swift-proxy-server does) with swift.conf read
from a given directory instead of /etc/swift, so a test can point it at a sluice cluster's
swift.conf (hash path prefix/suffix, policies) without touching the machine's.

Usage: python3 swift_proxy_in_dir.py SWIFT_DIR PROXY_SERVER_CONF
"""
import sys

from swift.common import constraints, storage_policy
from swift.common.utils import set_swift_dir
from swift.common.wsgi import run_wsgi

if __name__ == '__main__':
    set_swift_dir(sys.argv[1])
    constraints.reload_constraints()
    storage_policy.reload_storage_policies()
    sys.exit(run_wsgi(sys.argv[2], 'proxy-server'))
