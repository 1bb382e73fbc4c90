# Runs keystonemiddleware's real auth_token against a Keystone: reads {"conf": {...}, "tokens": [...]}
# on stdin, prints one JSON line per token: the status and the X- headers auth_token passed on.
import json, logging, sys
logging.disable(logging.CRITICAL)
import webob
from keystonemiddleware import auth_token

spec = json.load(sys.stdin)
seen = {}

def app(environ, start_response):
    seen.clear()
    seen.update({k[5:].replace('_', '-').title(): v for k, v in environ.items() if k.startswith('HTTP_X_')})
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [b'ok']

mw = auth_token.AuthProtocol(app, dict(spec['conf']))
for item in spec['requests']:
    seen.clear()
    req = webob.Request.blank('/v1/AUTH_x')
    for k, v in item.items():
        req.headers[k] = v
    resp = req.get_response(mw)
    print(json.dumps({'status': resp.status_int, 'www_authenticate': resp.headers.get('WWW-Authenticate'), 'passed': dict(seen)}))
