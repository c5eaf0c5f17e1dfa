#!/usr/bin/env python3
"""The return of a victim identified in Bulgaria, origin Nigeria, driven
through two trm-agents' JSON API only (HTTPS, Python's standard library):
bg-ngo's agent at node BG and ng-naptip's at node NG, over mutual TLS
between the nodes, with the signed directory and the case rules on. Each
step is sent by one agent, arrives at the other (its event stream says so),
opens there as JSON, and is acknowledged with a signature the sender's agent
checks against the directory. The case rules' refusals come back as API
errors with the node's reason.

agent_return_check.py BG_URL BG_TOKEN BG_CA NG_URL NG_TOKEN NG_CA POLLS
"""
import datetime
import json
import ssl
import sys
import time
import urllib.error
import urllib.request

bg_url, bg_tok, bg_ca, ng_url, ng_tok, ng_ca, polls = sys.argv[1:8]
polls = int(polls)
failures = []
CASE = "BG-2026-R1"


class Agent:
    def __init__(self, name, url, token, ca):
        self.name, self.url, self.token = name, url.rstrip("/"), token
        self.tls = ssl.create_default_context(cafile=ca)

    def call(self, method, path, body=None):
        req = urllib.request.Request(
            self.url + path, method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": "Bearer " + self.token,
                     "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30,
                                        context=self.tls) as r:
                return r.status, json.load(r)
        except urllib.error.HTTPError as e:
            return e.code, json.load(e)


bg = Agent("bg-ngo", bg_url, bg_tok, bg_ca)
ng = Agent("ng-naptip", ng_url, ng_tok, ng_ca)


def ok(what, cond, detail=""):
    print(("ok   " if cond else "FAIL ") + what +
          (": " + detail if detail and not cond else ""))
    if not cond:
        failures.append(what)
    return cond


def wait(what, probe):
    for _ in range(polls):
        got = probe()
        if got:
            return got
        time.sleep(0.1)
    ok(what, False, "timed out")
    return None


def send(agent, type_, to, payload, **extra):
    body = dict(type=type_, case_ref=CASE, recipient_org=to, payload=payload,
                **extra)
    return agent.call("POST", "/api/v1/messages", body)


def step(name, sender, receiver, type_, payload, **extra):
    """Sent, accepted with a valid receipt, received and opened by the
    other agent, acknowledged with a signature checked by the sender."""
    code, out = send(sender, type_, receiver.name, payload, **extra)
    if not ok(name + ": accepted", code == 200, json.dumps(out)):
        return None
    mid = out["message_id"]
    ok(name + ": receipt valid", out.get("receipt_verified") is True,
       str(out.get("receipt_check")))

    def arrived():
        c, m = receiver.call("GET", "/api/v1/messages/" + mid)
        return m if c == 200 and "payload" in m else None
    msg = wait(name + ": arrives at " + receiver.name, arrived)
    if msg:
        ok(name + ": opens as JSON at " + receiver.name,
           all(msg["payload"].get(k) == v for k, v in payload.items()),
           json.dumps(msg["payload"]))
        ok(name + ": the sender is named", msg["header"]["sender_org"] ==
           sender.name)

    def acknowledged():
        c, m = sender.call("GET", "/api/v1/messages/" + mid)
        return m if c == 200 and m.get("status") == "ACKNOWLEDGED" else None
    st = wait(name + ": acknowledged", acknowledged)
    if st:
        checks = {e["step"]: e["check"] for e in st["evidence"]}
        ok(name + ": the acknowledgement's signature is valid",
           checks.get("acknowledgement", "").startswith("valid"),
           json.dumps(st["evidence"]))
    return mid


def refused(name, sender, to, type_, payload, reason, **extra):
    code, out = send(sender, type_, to, payload, **extra)
    ok(name + ": refused as " + reason, code == 422 and
       out.get("reason") == reason and bool(out.get("message")),
       "%d %s" % (code, json.dumps(out)))


orgs = bg.call("GET", "/api/v1/organisations")[1]
ok("the directory's organisations", {"bg-ngo", "ng-naptip"} <=
   {o["id"] for o in orgs} and
   {o["country"] for o in orgs if o["id"] == "ng-naptip"} == {"NG"},
   json.dumps(orgs))

referral = {"needs": ["shelter", "medical care"],
            "reason": "voluntary return"}
refused("a referral before consent", bg, "ng-naptip", "REFERRAL_REQUEST",
        referral, "CONSENT_REQUIRED", consent_ref="C-1")
step("consent", bg, ng, "CONSENT_RECORD",
     {"granted": True, "consent_ref": "C-1", "recipient_org": "ng-naptip",
      "purpose": "voluntary return and reintegration"})
ref = step("referral", bg, ng, "REFERRAL_REQUEST", referral,
           consent_ref="C-1")
step("acknowledgement with a named contact", ng, bg, "REFERRAL_ACK",
     {"accepted": True, "contact": {"name": "Ada Obi",
                                    "role": "case manager"}},
     in_reply_to=ref)
departure = (datetime.datetime.now(datetime.timezone.utc) +
             datetime.timedelta(days=9)).strftime("%Y-%m-%dT%H:%M:%SZ")
refused("travel before a risk assessment", bg, "ng-naptip",
        "TRAVEL_ARRANGEMENT", {"departure": departure},
        "RISK_ASSESSMENT_REQUIRED", consent_ref="C-1")
step("risk assessment", bg, ng, "RISK_ASSESSMENT",
     {"threat_to_life_or_health": False, "re_trafficking_risk": "low"},
     consent_ref="C-1")
step("risk feedback", ng, bg, "RISK_FEEDBACK", {"agrees": True})
step("reintegration plan", bg, ng, "REINTEGRATION_PLAN",
     {"agreed": True, "goals": ["housing", "vocational training"]},
     consent_ref="C-1")
step("travel arrangement", bg, ng, "TRAVEL_ARRANGEMENT",
     {"departure": departure, "reception_point": "Lagos airport"},
     consent_ref="C-1")
step("arrival", ng, bg, "ARRIVAL_CONFIRMATION", {"remarks": "arrived well"})
step("handover", ng, bg, "HANDOVER_CONFIRMATION",
     {"received_by": {"name": "Ada Obi"}})
step("monitoring report", ng, bg, "MONITORING_REPORT",
     {"progress": "in vocational training"})

code, case = bg.call("GET", "/api/v1/cases/" + CASE)
ok("the case at BG is being monitored", code == 200 and
   case.get("state") == "MONITORING", json.dumps(case))
ok("the next report is owed by ng-naptip",
   any(o["kind"] == "MONITORING_REPORT_DUE" and o["owed_by"] == "ng-naptip"
       for o in case.get("owed", [])), json.dumps(case.get("owed")))
code, due = ng.call("GET", "/api/v1/due")
ok("ng-naptip's due list has the next report",
   any(d["kind"] == "MONITORING_REPORT_DUE" and d["yours"]
       for d in due.get("due", [])), json.dumps(due))
step("closure", bg, ng, "CASE_CLOSURE", {"reason": "COMPLETED"})
refused("nothing after closure", ng, "bg-ngo", "MONITORING_REPORT",
        {"progress": "late"}, "CASE_CLOSED")

code, tl = bg.call("GET", "/api/v1/cases/%s/timeline" % CASE)
types = [s["type"] for s in tl.get("timeline", [])]
ok("the timeline has every step", code == 200 and all(t in types for t in [
    "CONSENT_RECORD", "REFERRAL_REQUEST", "REFERRAL_ACK", "RISK_ASSESSMENT",
    "RISK_FEEDBACK", "REINTEGRATION_PLAN", "TRAVEL_ARRANGEMENT",
    "ARRIVAL_CONFIRMATION", "HANDOVER_CONFIRMATION", "MONITORING_REPORT",
    "CASE_CLOSURE"]), json.dumps(types))
ack = [s for s in tl.get("timeline", []) if s["type"] == "REFERRAL_ACK"]
ok("the named contact, opened from bg-ngo's own copy",
   ack and ack[0].get("payload", {}).get("contact", {}).get("name") ==
   "Ada Obi", json.dumps(ack))
code, cases = ng.call("GET", "/api/v1/cases")
ok("closed at NG too", code == 200 and
   [c.get("state") for c in cases if c["case_ref"] == CASE] == ["CLOSED"],
   json.dumps(cases))

# A misrouted referral: ng-naptip's agent stored and acknowledged it; its
# caseworker reads it, finds it is not theirs and refuses it. bg-ngo's agent
# then shows REFUSED, with the acknowledgement and the signed refusal both
# checked; ng-naptip's copy no longer opens.
OTHER = "BG-2026-R2"
code, out = bg.call("POST", "/api/v1/messages", dict(
    type="CONSENT_RECORD", case_ref=OTHER, recipient_org="ng-naptip",
    payload={"granted": True, "consent_ref": "C-2",
             "recipient_org": "ng-naptip", "purpose": "voluntary return"}))
ok("a second case's consent is accepted", code == 200, json.dumps(out))
code, out = bg.call("POST", "/api/v1/messages", dict(
    type="REFERRAL_REQUEST", case_ref=OTHER, recipient_org="ng-naptip",
    consent_ref="C-2", payload={"needs": ["shelter"]}))
wrong = out.get("message_id", "") if ok(
    "a second referral is accepted", code == 200, json.dumps(out)) else ""


def stored_at_ng():
    c, m = ng.call("GET", "/api/v1/messages/" + wrong)
    return m if c == 200 and "payload" in m else None


def status_at_bg(state):
    def probe():
        c, m = bg.call("GET", "/api/v1/messages/" + wrong)
        return m if c == 200 and m.get("status") == state else None
    return probe


if wrong and wait("the second referral reaches ng-naptip", stored_at_ng) and \
        wait("the second referral is acknowledged", status_at_bg("ACKNOWLEDGED")):
    code, out = ng.call("POST", "/api/v1/messages/%s/refuse" % wrong,
                        {"reason": "SHRUG", "text": "x"})
    ok("a refusal with an unknown reason is a 400 naming the field",
       code == 400 and out.get("path") == "reason", json.dumps(out))
    code, out = ng.call("POST", "/api/v1/messages/%s/refuse" % wrong,
                        {"reason": "NOT_OURS",
                         "text": "not a case of this organisation"})
    ok("ng-naptip refuses the acknowledged referral", code == 200 and
       out.get("reason") == "NOT_OURS", json.dumps(out))
    st = wait("bg-ngo sees it refused", status_at_bg("REFUSED"))
    if st:
        checks = {e["step"]: e["check"] for e in st["evidence"]}
        ok("the refusal's signature is valid at bg-ngo",
           checks.get("refusal", "").startswith("valid"),
           json.dumps(st["evidence"]))
        ok("the acknowledgement stays as evidence",
           checks.get("acknowledgement", "").startswith("valid"),
           json.dumps(st["evidence"]))
    code, m = ng.call("GET", "/api/v1/messages/" + wrong)
    ok("ng-naptip's copy is gone, the refusal recorded", code == 200 and
       "payload" not in m and m.get("refusal", {}).get("reason") ==
       "NOT_OURS", json.dumps(m))
    code, out = bg.call("POST", "/api/v1/messages/%s/refuse" % wrong,
                        {"reason": "NOT_OURS", "text": "x"})
    ok("the sender cannot refuse its own message", code == 422 and
       out.get("reason") == "AGENT_NOT_REFUSABLE", "%d %s" % (code, out))

# Erasure: bg-ngo's notice reaches ng-naptip's agent, which deletes its
# own copies of the case and keeps the notice (which says what went).
code, out = send(bg, "ERASURE_OR_RECTIFICATION_NOTICE", "ng-naptip",
                 {"erase": True, "fields": ["all"],
                  "legal_basis": "GDPR Art. 17"})
ok("an erasure notice after closure is accepted", code == 200,
   json.dumps(out))


def erased():
    c, box = ng.call("GET", "/api/v1/messages?box=all&case=" + CASE)
    return box if c == 200 and [m["type"] for m in box] == [
        "ERASURE_OR_RECTIFICATION_NOTICE"] else None
if wait("the erasure reached ng-naptip's agent", erased):
    ok("the erasure reached ng-naptip's agent: only the notice is left", True)
code, _ = ng.call("GET", "/api/v1/messages/" + ref)
ok("the referral is gone from ng-naptip's agent", code == 404, str(code))

if failures:
    print("FAILED: " + "; ".join(failures))
    sys.exit(1)
print("the return ran through the agents' API")
