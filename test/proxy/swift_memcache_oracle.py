"""Reads and writes memcached the way Swift's proxy does (Debian's python3-swift): one JSON list
of operations as the only argument, one JSON list of results printed.

  {"op": "info", "account": a, "container": c|null, "headers": {...}, "status": n}
      -> the dict headers_to_account_info / headers_to_container_info builds
  {"op": "set_info", "servers": [...], ... as "info", "ttl": s}
      -> stores that dict under get_cache_key(a, c), as set_info_cache does
  {"op": "set", "servers": [...], "key": k, "value": v, "ttl": s}   (MemcacheRing.set)
  {"op": "get", "servers": [...], "key": k}                        (MemcacheRing.get)
"""
import json
import sys

from swift.common.memcached import MemcacheRing
from swift.proxy.controllers.base import (
    get_cache_key, headers_to_account_info, headers_to_container_info)


def info(op):
    if op.get('container'):
        return headers_to_container_info(op['headers'], op['status'])
    return headers_to_account_info(op['headers'], op['status'])


results = []
for op in json.loads(sys.argv[1]):
    kind = op['op']
    if kind == 'info':
        results.append(info(op))
        continue
    ring = MemcacheRing(op['servers'])
    if kind == 'set_info':
        ring.set(get_cache_key(op['account'], op.get('container')), info(op),
                 time=op['ttl'], raise_on_error=True)
        results.append(None)
    elif kind == 'set':
        ring.set(op['key'], op['value'], time=op['ttl'], raise_on_error=True)
        results.append(None)
    elif kind == 'get':
        results.append(ring.get(op['key'], raise_on_error=True))
print(json.dumps(results))
