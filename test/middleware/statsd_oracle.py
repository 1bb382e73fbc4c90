"""StatsD oracle: the lines Swift's own proxy_logging (python3-swift 2.30) sends for a request.

One JSON question per stdin line:
  {"conf": {...filter conf...}, "method": "PUT", "path": "/v1/a/c/o",
   "status": 201, "request_body": 5, "response_body": 0, "policy_index": "0" | null,
   "random": 0.0}
and one JSON answer per stdout line: {"lines": ["<datagram>", ...]}.
A question {"app_conf": {...[app:proxy-server] conf...}, "metric": "errors", "controller": null |
"object"} instead gives the line Swift's proxy application sends when it increments that metric
(from Application.handle_request, or a controller's logger, prefixed with its server type).

The app behind the middleware stands in for Swift's proxy: it reads the whole request body,
puts the policy index into the request's X-Backend-Storage-Policy-Index as the object
controller does, and answers `status` with `response_body` bytes. Swift's StatsdClient sends
real UDP datagrams to a socket this script listens on; `random` replaces its random draw.
"""
import json
import socket
import sys

from swift.common import swob
from swift.common.utils import MetricsPrefixLoggerAdapter, get_logger
from swift.common.middleware import proxy_logging
from swift.common.storage_policy import StoragePolicy, StoragePolicyCollection

# The one policy sluice's test clusters define, whatever /etc/swift/swift.conf says.
proxy_logging.POLICIES = StoragePolicyCollection([StoragePolicy(0, 'Policy-0', True)])

sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(('127.0.0.1', 0))
PORT = sock.getsockname()[1]


def app_for(q):
    def app(env, start_response):
        body = env['wsgi.input'].read()
        assert len(body) == q['request_body']
        if q['policy_index'] is not None:
            env['HTTP_X_BACKEND_STORAGE_POLICY_INDEX'] = q['policy_index']
        out = b'x' * q['response_body']
        start_response('%d Whatever' % q['status'],
                       [('Content-Length', str(len(out)))])
        return [out]
    return app


def drain():
    sock.settimeout(0.2)
    lines = []
    while True:
        try:
            lines.append(sock.recv(65536).decode('utf-8'))
        except socket.timeout:
            return lines


def app_metric(q):
    conf = dict(q['app_conf'])
    conf.update({'log_statsd_host': '127.0.0.1', 'log_statsd_port': str(PORT),
                 'log_address': '/nonexistent', 'log_udp_host': '127.0.0.1',
                 'log_udp_port': '9'})
    # As swift.proxy.server.Application and Controller.__init__ make their loggers.
    logger = get_logger(conf, log_route='proxy-server', statsd_tail_prefix='proxy-server')
    if q['controller']:
        logger = MetricsPrefixLoggerAdapter(logger, {}, q['controller'])
    logger.increment(q['metric'])
    return {'lines': drain()}


def answer(q):
    if 'app_conf' in q:
        return app_metric(q)
    conf = dict(q['conf'])
    conf.update({'log_statsd_host': '127.0.0.1', 'log_statsd_port': str(PORT),
                 'log_address': '/nonexistent', 'log_udp_host': '127.0.0.1',
                 'log_udp_port': '9'})
    mw = proxy_logging.ProxyLoggingMiddleware(app_for(q), conf)
    client = mw.access_logger.logger.statsd_client
    client.random = lambda: q.get('random', 0.0)
    req = swob.Request.blank(q['path'], environ={'REQUEST_METHOD': q['method']},
                             body=b'y' * q['request_body'])
    if not q['request_body']:
        req.environ.pop('CONTENT_LENGTH', None)
    started = []
    body = mw(req.environ, lambda status, headers, exc_info=None: started.append(status))
    # Read to the end and close, as a WSGI server does: the timing and xfer lines go out then.
    b''.join(body)
    body.close()
    assert started[0].startswith(str(q['status'])), started
    return {'lines': drain()}


for line in sys.stdin:
    try:
        out = answer(json.loads(line))
    except Exception as e:  # reported to the test, which fails with it
        out = {'oracle_error': '%s: %s' % (type(e).__name__, e)}
    sys.stdout.write(json.dumps(out) + '\n')
    sys.stdout.flush()
