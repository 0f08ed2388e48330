#!/usr/bin/env python3
"""Check `nsbox list --json` or `nsbox show --json` with a real parser.

  jsoncheck.py EXPR < JSON

EXPR is a Python expression over J (the parsed document) and box(KEY), the
first box whose id or user is KEY; it must be true.  Exits 0 when it is, 1
when it is false or the JSON does not parse, printing why."""
import json
import sys

text = sys.stdin.read()
try:
    J = json.loads(text)
except ValueError as e:
    print("jsoncheck: not JSON (%s): %.200s" % (e, text))
    sys.exit(1)


def box(key):
    return next(b for b in J if key in (b.get("id"), b.get("user")))


try:
    ok = eval(sys.argv[1], {"J": J, "box": box})
except Exception as e:  # a missing box or key is a failed check
    print("jsoncheck: %s: %r" % (sys.argv[1], e))
    sys.exit(1)
if not ok:
    print("jsoncheck: false: %s" % sys.argv[1])
sys.exit(0 if ok else 1)
