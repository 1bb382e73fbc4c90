"""Answers each JSON line (a list of strings) with one JSON line: mimetypes.guess_type(s) for
each, as Swift calls it (strict), after mimetypes.init() reads the system's /etc/mime.types."""
import json
import mimetypes
import sys

mimetypes.init()
for line in sys.stdin:
    urls = json.loads(line)
    print(json.dumps([list(mimetypes.guess_type(u)) for u in urls]), flush=True)
