#!/usr/bin/env python3
"""The console's message catalogues (client/agent/console/i18n/*.json):
English, French and Arabic hold the same keys, none empty, and every key
the console's scripts name is in them, so no page shows a bare key in any
language.

console_catalogue_test.py CONSOLE_DIR
"""
import json
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1])
failures = []
catalogues = {p.stem: json.loads(p.read_text(encoding="utf-8"))
              for p in sorted((root / "i18n").glob("*.json"))}
if sorted(catalogues) != ["ar", "en", "fr"]:
    failures.append("expected catalogues ar, en, fr; found %s" %
                    sorted(catalogues))
keys = set().union(*[set(c) for c in catalogues.values()])
for lang, c in catalogues.items():
    for k in sorted(keys - set(c)):
        failures.append("%s.json lacks %s" % (lang, k))
    for k, v in c.items():
        if not isinstance(v, str) or not v.strip():
            failures.append("%s.json: %s is empty" % (lang, k))

# Keys named in the scripts: t("a.b"), and the prefixes built at run time
# ("box." + b, "refuse." + r) with the values they are built from.
used = set()
for js in sorted(root.rglob("*.js")):
    text = js.read_text(encoding="utf-8")
    used |= {k for k in re.findall(r'\bt\("([a-z_]+\.[A-Za-z_.]+)"', text)
             if not k.endswith(("_", "."))}
    # Keys passed on as strings ("node.none_upcoming" to a helper).
    prefixes = {k.split(".")[0] for k in keys}
    used |= {k for k in re.findall(r'"([a-z]+\.[a-z_][A-Za-z_.]*)"', text)
             if k.split(".")[0] in prefixes and not k.endswith(("_", "."))
             and not re.search(r"\.(js|json|css|png|html)$", k)}
# The coordinator page's warning codes, as trm-agent names them
# (client/agent/node_health.cc): each has its text in every language.
health = (root.parent / "node_health.cc").read_text(encoding="utf-8")
codes = sorted(set(re.findall(r'"([A-Z][A-Z_]+)"', health)))
if len(codes) < 10:
    failures.append("found only %d warning codes in node_health.cc" % len(codes))
# The node's texts the console translates: every case state's next step,
# and every case rule's refusal (server/cases/case_policy.cc) with the
# payload's missing field.
repo = root.parent.parent.parent
proto = (repo / "proto/trm/v1/case.proto").read_text(encoding="utf-8")
enum = re.search(r"enum CaseState \{(.*?)\}", proto, re.S).group(1)
states = re.findall(r"^\s*([A-Z_]+) = \d+;", enum, re.M)
registry = set(re.findall(r'\{"([A-Z_]+)",', (repo / "common/reasons.cc")
                          .read_text(encoding="utf-8")))
policy = (repo / "server/cases/case_policy.cc").read_text(encoding="utf-8")
rules = sorted(set(re.findall(r'"([A-Z][A-Z_]+)"', policy)) & registry)
if len(states) < 10 or len(rules) < 10:
    failures.append("found %d case states and %d case rules" %
                    (len(states), len(rules)))
for prefix, values in [("next.", states),
                       ("reason.", rules + ["PAYLOAD_FIELD_REQUIRED"]),
                       ("box.", ["inbox", "outbox", "all"]),
                       ("event.", ["message", "refused", "status"]),
                       ("refuse.", ["NOT_OURS", "WRONG_TYPE",
                                    "HEADER_PAYLOAD_MISMATCH",
                                    "CANNOT_OPEN"]),
                       ("warn.", codes),
                       ("audit.state_", ["verified", "failed", "fork",
                                         "unreachable"]),
                       ("audit.proof_", ["verified", "failed"]),
                       ("node.breaker_", ["closed", "open", "half_open"])]:
    used |= {prefix + v for v in values}
for k in sorted(used - keys):
    failures.append("the scripts use %s, which no catalogue has" % k)
if len(used) < 50:
    failures.append("found only %d keys in the scripts" % len(used))

for f in failures:
    print("FAIL: " + f)
if failures:
    sys.exit(1)
print("ok: %d keys in %d catalogues, %d used by the scripts" %
      (len(keys), len(catalogues), len(used)))
