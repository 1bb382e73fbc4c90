"""Loads proxy-server.conf files as Swift 2.30's run_wsgi loads them (appconfig of
[app:proxy-server] for log_name, then loadcontext of the pipeline with that log_name as
global_conf) and prints, per file, what each pipeline element's factory would be given.

Usage: python3 paste_oracle.py FILE_OR_DIR...   (needs Debian's python3-swift)
"""
import json
import os
import sys

from paste.deploy import loadwsgi
from swift.common.wsgi import appconfig, loadcontext


def conf_of(ctx):
    conf = dict(ctx.global_conf)
    conf.update(ctx.local_conf)
    conf.pop('__name__', None)  # NamedConfigLoader's bookkeeping, not an option
    return conf


def load(path):
    own = appconfig(path, name='proxy-server')
    log_name = own.get('log_name', 'proxy-server')
    ctx = loadcontext(loadwsgi.APP, path, global_conf={'log_name': log_name})
    elements = list(ctx.filter_contexts) + [ctx.app_context]
    return {
        'pipeline': [c.name for c in elements],
        'eggs': [getattr(c, 'entry_point_name', None) for c in elements],
        'confs': [conf_of(c) for c in elements],
        'defaults': dict(ctx.global_conf),
    }


results = []
for path in map(os.path.abspath, sys.argv[1:]):
    try:
        results.append({'ok': load(path)})
    except Exception as err:
        results.append({'error': type(err).__name__, 'message': str(err)})
json.dump(results, sys.stdout)
