#!/usr/bin/env python3
"""Every reason token the code can return is in the one registry
(common/reasons.cc) with the status code it is returned with, and
docs/reasons.md is what `trmctl reasons --markdown` prints.

Usage: reasons_registry_test.py TRMCTL SOURCE_DIR
"""
import json
import pathlib
import re
import subprocess
import sys

trmctl, root = sys.argv[1], pathlib.Path(sys.argv[2])

# Error(absl::StatusCode::kX, "TOKEN", ...), Error(StatusCode::kX, "TOKEN"),
# the case rules' Rule("TOKEN", ...) and TRM_REFUSE("TOKEN", ...).
use = re.compile(
    r'(?:\bError\(\s*(?:absl::)?(?:StatusCode::)?(k\w+|[^,()"]+),'
    r'|\bTRM_REFUSE\(|\bRule\()\s*"([A-Z][A-Z0-9_]+)"')
CASE_RULE = "kFailedPrecondition"  # case_policy.cc's Rule()
# Helpers that take the token first, with the code they return it with.
helpers = re.compile(
    r'\b(Corrupt|Invalid|CheckSigningTime|JsonErrors\s*\w*\s*\{)\(?\s*'
    r'"([A-Z][A-Z0-9_]+)"|\?\s*"(PEER_REFUSED)"')
HELPER_CODE = {"Corrupt": "kDataLoss", "Invalid": "kInvalidArgument",
               "CheckSigningTime": "kInvalidArgument"}

listed = json.loads(
    subprocess.run([trmctl, "reasons", "--json"], check=True,
                   capture_output=True, text=True).stdout)["reasons"]
registry = {r["reason"]: r["codes"] for r in listed}


def code_name(k):  # kInvalidArgument -> INVALID_ARGUMENT
    return re.sub(r"(?<!^)([A-Z])", r"_\1", k[1:]).upper()


failures, seen, used = [], 0, set()
for sub in ("server", "common", "client", "bench"):
    for path in sorted((root / sub).rglob("*")):
        if path.suffix not in (".cc", ".h") or path.name == "reasons.cc":
            continue
        text = path.read_text()
        found = [(m.start(), m.group(1) or CASE_RULE, m.group(2))
                 for m in use.finditer(text)]
        for m in helpers.finditer(text):
            if m.group(3):  # a peer's reason, else this one: its peer's code
                found.append((m.start(), None, m.group(3)))
            else:
                name = m.group(1).split()[0].rstrip("{")
                found.append((m.start(), HELPER_CODE.get(name,
                                                         "kInvalidArgument"),
                              m.group(2)))
        for start, code, token in found:
            seen += 1
            used.add(token)
            where = f"{path.relative_to(root)}:{text.count(chr(10), 0, start) + 1}"
            if token not in registry:
                failures.append(f"{where}: {token} is not in common/reasons.cc")
                continue
            if code and code.startswith("k") and \
                    code_name(code) not in registry[token]:
                failures.append(f"{where}: {token} returned as {code_name(code)}"
                                f", the registry has {registry[token]}")

for token in sorted(set(registry) - used):
    failures.append(f"{token} is registered but nothing returns it: remove it"
                    " from common/reasons.cc, or build what returns it")

md = subprocess.run([trmctl, "reasons", "--markdown"], check=True,
                    capture_output=True, text=True).stdout
doc = (root / "docs" / "reasons.md").read_text()
if md != doc:
    failures.append("docs/reasons.md differs from `trmctl reasons --markdown`;"
                    " write it with: trmctl reasons --markdown > docs/reasons.md")

# Showing one token, and refusing one that is not.
one = subprocess.run([trmctl, "reasons", "CONSENT_REQUIRED"],
                     capture_output=True, text=True)
if one.returncode != 0 or "CONSENT_RECORD" not in one.stdout:
    failures.append(f"trmctl reasons CONSENT_REQUIRED: {one.stdout}{one.stderr}")
bad = subprocess.run([trmctl, "reasons", "NO_SUCH"], capture_output=True,
                     text=True)
if bad.returncode != 2 or "USAGE" not in bad.stderr + bad.stdout:
    failures.append(f"trmctl reasons NO_SUCH: exit {bad.returncode}")

if seen < 150:
    failures.append(f"only {seen} uses of reason tokens found: the scan broke")
for f in failures:
    print("FAIL", f)
print(f"{seen} uses of {len(registry)} registered tokens checked")
sys.exit(1 if failures else 0)
