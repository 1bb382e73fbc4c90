"""Runs several swift-ring-builder command lines in one Python process: each is handed to the
command's own entry point (swift.cli.ringbuilder.main, what /usr/bin/swift-ring-builder calls),
so the rings are exactly swift-ring-builder's, without paying Python's start-up and Swift's
imports once per command (tens of seconds on a busy machine for the nine commands
scripts/multinode.sh needs).

Usage: python3 multinode-ring-builder.py 'BUILDER create 8 3 1' 'BUILDER add r1z1-... 100' ...
Each argument is one command line (split on whitespace). Exit status: the first command that
exits 2 (an error) stops the run with 2; 1 (a warning, e.g. "balance is already as good as it
gets") counts as success, as for the CLI.
"""
import sys

from swift.cli import ringbuilder

if __name__ == '__main__':
    for line in sys.argv[1:]:
        argv = ['swift-ring-builder'] + line.split()
        try:
            ringbuilder.main(argv)
            code = 0
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 2)
        if code > 1:
            print('swift-ring-builder %s: exit status %d' % (line, code), file=sys.stderr)
            sys.exit(2)
