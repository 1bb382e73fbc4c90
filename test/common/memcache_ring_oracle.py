"""Answers, per JSON line {"servers": [...], "tries": n, "keys": [...]}, which servers Swift's
own MemcacheRing (swift.common.memcached, Debian's python3-swift) tries for each key, in order,
and the key memcached is sent: {"orders": [[server, ...], ...], "hashed": [hex, ...]}.

The ring's connection pools are replaced by ones that hand out a placeholder connection, so
MemcacheRing._get_conns walks its real ring without connecting anywhere.
"""
import json
import sys

from swift.common.memcached import MemcacheRing, md5hash


class NoConnection(object):
    def get(self):
        return None, None

    def put(self, conn):
        pass


for line in sys.stdin:
    try:
        q = json.loads(line)
        ring = MemcacheRing(q['servers'], tries=q['tries'])
        for server in list(ring._client_cache):
            ring._client_cache[server] = NoConnection()
        orders = []
        hashed = []
        for key in q['keys']:
            h = md5hash(key)
            hashed.append(h.decode('ascii'))
            orders.append([server for server, _fp, _sock in ring._get_conns(h)])
        out = {'orders': orders, 'hashed': hashed}
    except Exception as e:  # reported to the test, which fails on it
        out = {'oracle_error': '%s: %s' % (type(e).__name__, e)}
    sys.stdout.write(json.dumps(out) + '\n')
    sys.stdout.flush()
