#!/usr/bin/env python3
"""Every trmctl command and trm-broker flag the documentation names is run by
a test or by the demo, so the docs cannot describe a command nothing runs.

usage: docs_commands_test.py TRMCTL TRM_BROKER REPO_ROOT
"""
import pathlib
import re
import subprocess
import sys

trmctl, broker, root = sys.argv[1], sys.argv[2], pathlib.Path(sys.argv[3])


def subcommands(args):
    out = subprocess.run([trmctl] + args + ["--help"], capture_output=True,
                         text=True).stdout
    if "Subcommands:" not in out:
        return []
    names = []
    for line in out.split("Subcommands:", 1)[1].splitlines():
        m = re.match(r"^  ([a-z][a-z-]*)\s", line)
        if m:
            names.append(m.group(1))
    return names


commands = set()
for top in subcommands([]):
    subs = subcommands([top])
    if subs:
        commands.update(f"{top} {s}" for s in subs)
    else:
        commands.add(top)
docs = [root / "README.md"] + sorted((root / "docs").glob("*.md"))
doc_text = "\n".join(p.read_text() for p in docs)
named = {c for c in commands
         if re.search(r"trmctl(?: --json)? " + re.escape(c) + r"\b", doc_text)
         or re.search(r"^#+ .*\b" + re.escape(c) + r"\b", doc_text, re.M)}
runners = [root / "scripts" / "demo.sh"] + sorted((root / "tests").rglob("*.sh"))
run_text = "\n".join(p.read_text() for p in runners)
# Scripts call "$TRMCTL" CMD, "$trmctl" CMD, or helpers `as ORG CMD`.
invocation = r'(?:TRMCTL"|trmctl"|\bas [a-z-]+|show "\$trmctl")(?: --json)? '
missing = sorted(c for c in named
                 if not re.search(invocation + re.escape(c) + r"\b", run_text))
flags = {f for line in doc_text.splitlines() if "trm-broker" in line
         for f in re.findall(r"(?<![\w-])--[a-z][a-z-]*", line)}
broker_help = subprocess.run([broker, "--help"], capture_output=True,
                             text=True).stdout
flags = {f for f in flags if f in broker_help and f != "--help"}
missing_flags = sorted(f for f in flags
                       if not re.search(r'BROKER"[^\n]*' + re.escape(f), run_text))
print(f"{len(named)} trmctl commands named in the docs: {', '.join(sorted(named))}")
print(f"{len(flags)} trm-broker flags: {', '.join(sorted(flags))}")
for c in missing:
    print(f"FAIL: `trmctl {c}` is documented but no test or the demo runs it")
for f in missing_flags:
    print(f"FAIL: `trm-broker {f}` is documented but no test runs it")
sys.exit(1 if missing or missing_flags else 0)
