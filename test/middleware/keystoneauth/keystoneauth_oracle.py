#!/usr/bin/python3
"""Oracle for swift-differential.test.ts: Swift's own keystoneauth deciding generated cases.

Run with Debian's /usr/bin/python3 (python3-swift 2.30, python3-keystonemiddleware). Reads
one JSON case per line on stdin and writes one JSON decision per line on stdout.

Each case goes through the real code path: keystonemiddleware's request wrapper sets the
X-Identity-Status, X-User-*, X-Project-*, X-Roles and X-Service-* headers from a v3 token
body (keystoneauth1's AccessInfoV3), as auth_token's process_request does; KeystoneAuth's
__call__ reads them (_keystone_identity) and installs swift.authorize; a stand-in for the
proxy app then sets req.acl (and swift_sync_key, as the object controller does for PUT and
DELETE) and calls swift.authorize, with the account and container info already in
env['swift.infocache'] so get_account_info never leaves the process.
"""
import json
import logging
import sys

from keystoneauth1.access import AccessInfoV3
from keystonemiddleware.auth_token._request import _AuthTokenRequest
from swift.common import swob
from swift.common.swob import str_to_wsgi
from swift.common.middleware.keystoneauth import KeystoneAuth
from swift.proxy.controllers.base import (
    get_cache_key, headers_to_account_info, headers_to_container_info)

SYSMETA_DOMAIN = 'X-Account-Sysmeta-Project-Domain-Id'

_quiet = logging.getLogger('keystoneauth-oracle')
_quiet.addHandler(logging.NullHandler())
_quiet.propagate = False

_filters = {}


def keystoneauth(conf):
    """One KeystoneAuth per configuration (building one opens a syslog handler); its app is
    set per case."""
    key = json.dumps(conf, sort_keys=True)
    if key not in _filters:
        ka = KeystoneAuth(None, dict(conf))
        # Its "inconsistent project domain id" warnings are expected here.
        ka.logger = _quiet
        _filters[key] = ka
    return _filters[key]


def token_body(t):
    """A v3 token body (what Keystone's GET /v3/auth/tokens returns) for a generated token."""
    token = {
        'methods': ['password'],
        'expires_at': '2099-01-01T00:00:00.000000Z',
        'issued_at': '2024-01-01T00:00:00.000000Z',
        'user': {'id': t['userId'], 'name': t['userName'],
                 'domain': {'id': t['userDomainId'],
                            'name': t['userDomainName']}},
        'roles': [{'id': 'role%d' % i, 'name': n}
                  for i, n in enumerate(t['roles'])],
    }
    if t.get('project'):
        p = t['project']
        token['project'] = {'id': p['id'], 'name': p['name'],
                            'domain': {'id': p['domainId'],
                                       'name': p['domainName']}}
    elif t.get('domain'):
        token['domain'] = dict(t['domain'])
    return {'token': token}


def authtoken(environ, case):
    """auth_token's process_request with delay_auth_decision, minus the Keystone calls."""
    req = _AuthTokenRequest(environ)
    req.remove_auth_headers()
    user, service = case.get('user'), case.get('service')
    if service is not None:
        req.service_token_valid = service['status'] == 'Confirmed'
    user_ok = user is not None and user['status'] == 'Confirmed'
    req.user_token_valid = user_ok
    if user_ok:
        body = token_body(user)
        req.token_info = body
        req.set_user_headers(AccessInfoV3(body))
    if service is not None and service['status'] == 'Confirmed':
        req.set_service_headers(AccessInfoV3(token_body(service)))


def decide(case):
    account, container, obj = case['account'], case['container'], case['object']
    path = '/v1/' + '/'.join(p for p in (account, container, obj) if p)
    method = case['method']

    a = case['accountInfo']
    acc_headers = {}
    if a.get('domainId') is not None:
        acc_headers[SYSMETA_DOMAIN] = a['domainId']
    if a.get('accountAcl') is not None:
        acc_headers['X-Account-Sysmeta-Core-Access-Control'] = a['accountAcl']
    if not a['reallyExists']:
        acc_headers['X-Backend-Fake-Account-Listing'] = 'yes'
    # Backend response headers are WSGI strings (latin-1 view of the UTF-8 bytes).
    acc_headers = {k: str_to_wsgi(v) for k, v in acc_headers.items()}
    infocache = {get_cache_key(account): headers_to_account_info(
        acc_headers, a['status'])}
    sync_key = None
    if container:
        c_headers = {}
        if case.get('containerSyncKey') is not None:
            c_headers['X-Container-Sync-Key'] = case['containerSyncKey']
        cinfo = headers_to_container_info(
            {k: str_to_wsgi(v) for k, v in c_headers.items()}, 204)
        infocache[get_cache_key(account, container)] = cinfo
        sync_key = cinfo['sync_key']

    environ = {'REQUEST_METHOD': method, 'swift.infocache': infocache}
    if case.get('override'):
        environ['swift.authorize_override'] = True
    env = swob.Request.blank(path, environ=environ,
                             headers=case.get('headers') or {}).environ
    authtoken(env, case)

    out = {}

    def app(env, start_response):
        authorize = env.get('swift.authorize')
        out['installed'] = authorize is not None
        req = swob.Request(env)
        req.acl = case.get('acl')
        if obj and method in ('PUT', 'DELETE'):
            env['swift_sync_key'] = sync_key
        resp = authorize(req) if authorize else None
        out['status'] = resp.status_int if resp else None
        out['wwwAuthenticate'] = (resp.www_authenticate()
                                  if resp and resp.status_int == 401 else None)
        out['owner'] = bool(env.get('swift_owner', False))
        out['domainHeader'] = req.headers.get(SYSMETA_DOMAIN)
        out['resellerRequest'] = bool(env.get('reseller_request', False))
        start_response('204 No Content', [])
        return [b'']

    ka = keystoneauth(case['conf'])
    ka.app = app
    ka(env, lambda *a, **k: None)
    return out


def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        case = json.loads(line)
        try:
            result = decide(case)
        except Exception as err:  # reported to the test, which fails on it
            result = {'oracle_error': '%s: %s' % (type(err).__name__, err)}
        sys.stdout.write(json.dumps(result) + '\n')
        sys.stdout.flush()


if __name__ == '__main__':
    main()
