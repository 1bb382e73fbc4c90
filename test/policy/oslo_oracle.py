"""oslo.policy as an oracle for sluice's policy engine: reads one JSON case per line on stdin and
writes one JSON answer per line on stdout, until stdin closes.

Usage: /usr/bin/python3 oslo_oracle.py   (Debian's python3-oslo.policy)

A case is {"defaults": [{"name", "check"}], "file": TEXT or null, "default_rule": NAME or null,
"queries": [{"rule", "target", "creds"}]}. The answer is
{"defaults": [PARSED...], "file": {NAME: PARSED} or null,
"queries": [{"result": bool} or {"raised": NAME}], "undefined": [NAMES], "cyclic": [NAMES]},
with "load_raised": NAME and "message" instead of the queries when the rules cannot be loaded.
PARSED is {"str": str(parsed rule), "logged": whether the parser logged an error} or
{"raised": NAME}.

The enforcer is set up as a service sets it up: defaults registered in code (RuleDefault), the
policy file's text read with oslo.policy's own JSON-then-YAML reader and parsed as Rules.load
does it, enforce() as the entry point.
"""
import json
import logging
import sys

from oslo_config import cfg
from oslo_policy import _parser, opts, policy


class Capture(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.records = []

    def emit(self, record):
        self.records.append(record)


capture = Capture()
parser_log = logging.getLogger('oslo_policy._parser')
parser_log.addHandler(capture)
parser_log.setLevel(logging.DEBUG)
parser_log.propagate = False
# The policy module warns (JSON file, undefined rules, cycles) on its own logger: keep it quiet.
logging.getLogger('oslo_policy').addHandler(logging.NullHandler())
logging.getLogger('oslo_policy').propagate = False
sys.setrecursionlimit(1000)

CONF = cfg.ConfigOpts()
CONF([], project='sluice-oracle', default_config_files=[], default_config_dirs=[])
opts._register(CONF)
# No policy file or policy.d exists for the oracle; enforce() looks for them on every call.
# Answering "not found" at once (what searching the config directories would answer) spares
# that search and changes nothing else.
CONF.find_file = lambda name: None


def parsed(build):
    """Runs a parse, returning its result and what oslo.policy made of it."""
    capture.records.clear()
    try:
        out = build()
    except Exception as e:  # a list rule of something not iterable
        return None, {'raised': type(e).__name__}
    check = out.check if isinstance(out, policy.RuleDefault) else out
    logged = any(r.levelno >= logging.ERROR for r in capture.records)
    return out, {'str': str(check), 'logged': logged}


def run(case):
    CONF.set_override('policy_default_rule', case.get('default_rule') or '', 'oslo_policy')
    enforcer = policy.Enforcer(CONF, policy_file='sluice-oracle-no-such-policy.yaml', use_conf=True)
    answer = {'defaults': [], 'file': None}
    registered = []
    for d in case['defaults']:
        rule, shown = parsed(lambda: policy.RuleDefault(d['name'], d['check']))
        registered.append(rule)
        answer['defaults'].append(shown)
    enforcer.register_defaults(registered)
    if case.get('file') is not None:
        # Rules.load, a step at a time so that each rule's parse can be told apart.
        try:
            contents = policy.parse_file_contents(case['file'])
            items = list(contents.items())
        except Exception as e:
            answer['load_raised'] = type(e).__name__
            answer['message'] = str(e)
            return answer
        answer['file'] = {}
        rules = {}
        for name, value in items:
            check, shown = parsed(lambda: _parser.parse_rule(value))
            answer['file'][name] = shown
            rules[name] = check
            if 'raised' in shown:
                answer['load_raised'] = shown['raised']
        if 'load_raised' in answer:
            return answer
        enforcer.set_rules(policy.Rules(rules, enforcer.default_rule), overwrite=True, use_conf=True)
    enforcer.load_rules()
    answer['undefined'] = sorted(n for n, c in enforcer.rules.items() if enforcer._undefined_check(c))
    answer['cyclic'] = sorted(n for n, c in enforcer.rules.items() if enforcer._cycle_check(c))
    results = []
    for q in case['queries']:
        try:
            results.append({'result': bool(enforcer.enforce(q['rule'], q['target'], q['creds']))})
        except Exception as e:
            results.append({'raised': type(e).__name__})
    answer['queries'] = results
    return answer


def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            out = run(json.loads(line))
        except Exception as e:  # the oracle itself failed: say so instead of hanging the test
            out = {'oracle_error': '%s: %s' % (type(e).__name__, e)}
        sys.stdout.write(json.dumps(out) + '\n')
        sys.stdout.flush()


if __name__ == '__main__':
    main()
