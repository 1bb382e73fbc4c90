#!/usr/bin/python3
"""Oracle for keystone.test.ts: keystonemiddleware's own auth_token against the same Keystone.

Run with Debian's /usr/bin/python3 (python3-keystonemiddleware). Reads one JSON document on
stdin, {"conf": {...auth_token options...}, "cases": [{"method": ..., "headers": {...}}]},
runs each case through a real AuthProtocol (one per document) in front of a WSGI app that
records what reaches it, and writes one JSON list on stdout: per case the response status,
and, when the request reached the app, the identity headers it saw (lower-case names,
None values left out, as a header that is not there).
"""
import json
import logging
import sys

import webob

from keystonemiddleware import auth_token

logging.getLogger('keystonemiddleware').addHandler(logging.NullHandler())
logging.getLogger('keystonemiddleware').propagate = False

IDENTITY = (
    'HTTP_X_IDENTITY_STATUS', 'HTTP_X_SERVICE_IDENTITY_STATUS', 'HTTP_X_SERVICE_CATALOG',
    'HTTP_X_IS_ADMIN_PROJECT', 'HTTP_OPENSTACK_SYSTEM_SCOPE', 'HTTP_X_ROLE', 'HTTP_X_USER',
    'HTTP_X_TENANT_ID', 'HTTP_X_TENANT_NAME', 'HTTP_X_TENANT',
)


def is_identity(key):
    if key in IDENTITY:
        return True
    for prefix in ('HTTP_X_', 'HTTP_X_SERVICE_'):
        rest = key[len(prefix):] if key.startswith(prefix) else None
        if rest in ('DOMAIN_ID', 'DOMAIN_NAME', 'PROJECT_ID', 'PROJECT_NAME',
                    'PROJECT_DOMAIN_ID', 'PROJECT_DOMAIN_NAME', 'USER_ID', 'USER_NAME',
                    'USER_DOMAIN_ID', 'USER_DOMAIN_NAME', 'ROLES'):
            return True
    return False


def main():
    doc = json.load(sys.stdin)
    seen = {}

    def app(environ, start_response):
        seen.clear()
        for k, v in environ.items():
            if is_identity(k) and v is not None:
                seen[k[len('HTTP_'):].replace('_', '-').lower()] = v
        start_response('200 OK', [('Content-Type', 'text/plain')])
        return [b'ok']

    conf = dict(doc['conf'])
    conf.setdefault('log_name', 'auth_token_oracle')
    protocol = auth_token.filter_factory({}, **conf)(app)
    out = []
    for case in doc['cases']:
        seen.clear()
        req = webob.Request.blank('/v1/AUTH_x', method=case.get('method', 'GET'), headers=case.get('headers', {}))
        res = req.get_response(protocol)
        reached = res.status_int == 200 and res.body == b'ok'
        out.append({'status': res.status_int, 'headers': dict(seen) if reached else None,
                    'www_authenticate': res.headers.get('WWW-Authenticate')})
    json.dump(out, sys.stdout)


if __name__ == '__main__':
    main()
