#!/usr/bin/env python3
"""payload_for.py TYPE [trmctl send flags...] [--pad N]

Prints the least payload of TYPE, in the JSON form `trmctl send --payload`
reads, that agrees with the --outcome, --consent and --departure among the
flags (docs/protocol.md section 17.2: the header is taken from the payload,
and the two must agree). --pad N adds N characters of text, for tests that
need a large message. Other flags are ignored, so a test passes its send
flags through unchanged.
"""
import json
import sys


def flag(args, name):
    for i, a in enumerate(args):
        if a == name and i + 1 < len(args):
            return args[i + 1]
        if a.startswith(name + "="):
            return a[len(name) + 1:]
    return None


def main(argv):
    if not argv:
        sys.exit(__doc__)
    kind, rest = argv[0], argv[1:]
    outcome = (flag(rest, "--outcome") or "").lower().replace("_", "-")
    consent = flag(rest, "--consent")
    departure = flag(rest, "--departure")
    pad = int(flag(rest, "--pad") or 0)
    p = {}
    text = {"reintegration-plan": "budget", "monitoring-report": "progress",
            "arrival-confirmation": "remarks", "non-departure-notice": "reason",
            "information-response": "answer", "information-request": "question",
            "referral-request": "reason"}.get(kind)  # carries --pad
    if kind == "consent-record":
        p = {"granted": outcome != "consent-withdrawn",
             "consent_ref": consent or "C-TEST"}
        text = "purpose"
    elif kind == "referral-ack":
        p = {"accepted": outcome != "referral-declined"}
        text = "decline_reason"
    elif kind == "risk-assessment":
        p = {"threat_to_life_or_health": outcome == "risk-unsafe"}
        text = "safety_plan"
    elif kind == "best-interests-determination":
        p = {"return_in_best_interests":
             outcome != "return-not-in-best-interests"}
        text = "reasoning"
    elif kind == "reintegration-plan":
        p = {"agreed": outcome == "plan-agreed"}
    elif kind == "case-closure":
        p = {"reason": "WITHDRAWN" if outcome == "return-withdrawn"
             else "COMPLETED"}
        text = "outcome"
    elif kind == "travel-arrangement":
        if departure is None:
            sys.exit("payload_for.py: travel-arrangement needs --departure")
        p = {"departure": departure}
        text = "itinerary"
    elif kind == "erasure-or-rectification-notice":
        p = {"erase": True}
        text = "legal_basis"
    if pad and text is None:
        sys.exit("payload_for.py: --pad is not built for " + kind)
    if pad:
        p[text] = ("x" * 64 + "\n") * (pad // 65) + "x" * (pad % 65)
    print(json.dumps(p))


if __name__ == "__main__":
    main(sys.argv[1:])
