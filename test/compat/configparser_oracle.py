"""Reads every case of a manifest with Python's configparser, set up as Swift sets it up, and
prints one JSON result per case: the sections and their items, or the exception's class.

Usage: python3 configparser_oracle.py MANIFEST.json

A case is {"path", "dir", "interpolation": "swift"|"basic"|"none", "lower", "strict",
"defaults"}. "swift" is Swift's own NicerInterpolation when Swift is installed (Debian's
python3-swift), otherwise an equivalent; a directory is read as Swift's read_conf_dir reads it.
"""
import configparser
import json
import os
import sys

try:
    from swift.common.utils import NicerInterpolation, read_conf_dir
    ORACLE = 'swift'
except Exception:  # no python3-swift: the same behaviour, written here
    ORACLE = 'configparser'

    class NicerInterpolation(configparser.BasicInterpolation):
        # Values without a reference pass through untouched ("1%" stays "1%").
        def before_get(self, parser, section, option, value, defaults):
            if '%(' in value:
                return super().before_get(parser, section, option, value, defaults)
            return value

    def read_conf_dir(parser, conf_dir):
        names = [n for n in os.listdir(conf_dir) if n.endswith('.conf') and not n.startswith('.')]
        return parser.read(sorted(os.path.join(conf_dir, n) for n in names), encoding='utf-8')


def error_line(err):
    if isinstance(err, configparser.ParsingError) and not isinstance(err, configparser.MissingSectionHeaderError):
        return err.errors[0][0] if err.errors else None
    return getattr(err, 'lineno', None)


def error_source(err):
    source = getattr(err, 'source', None)
    return os.path.basename(source) if isinstance(source, str) else None


def read_case(case):
    interpolation = {
        'swift': NicerInterpolation(),
        'basic': configparser.BasicInterpolation(),
        'none': None,
    }[case['interpolation']]
    parser = configparser.ConfigParser(case.get('defaults') or None, interpolation=interpolation, strict=case['strict'])
    if not case['lower']:
        parser.optionxform = str
    if case['dir']:
        if ORACLE == 'swift':
            # Swift's read_conf_dir opens files with the locale's encoding; make it UTF-8 here.
            orig_read = parser.read
            parser.read = lambda names: orig_read(names, encoding='utf-8')
        if not read_conf_dir(parser, case['path']):
            # readconf's check: a directory with nothing readable in it is an error.
            raise OSError('Unable to read config from %s' % case['path'])
    else:
        with open(case['path'], encoding='utf-8') as f:
            parser.read_file(f, case['path'])
    return {
        'defaults': [list(kv) for kv in parser.items(parser.default_section)],
        'sections': [[name, [list(kv) for kv in parser.items(name)]] for name in parser.sections()],
    }


def main():
    with open(sys.argv[1], encoding='utf-8') as f:
        manifest = json.load(f)
    results = []
    for case in manifest:
        try:
            results.append({'ok': read_case(case)})
        except Exception as err:
            results.append({'error': type(err).__name__, 'line': error_line(err), 'source': error_source(err)})
    json.dump({'oracle': ORACLE, 'results': results}, sys.stdout)


main()
