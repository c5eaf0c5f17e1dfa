#!/usr/bin/env python3
"""Sends a referral through trm-agent's JSON API and waits for its evidence.

  send_referral.py AGENT_URL TOKEN RECIPIENT_ORG[@NODE] CASE_REF [TIMEOUT_S]

e.g. http://127.0.0.1:8480; the node comes from the directory unless named.
Python's standard library only (docs/integration.md).
"""
import json, sys, time, urllib.error, urllib.request

url, token, recipient, case_ref = sys.argv[1:5]
recipient, _, node = recipient.partition("@")
timeout = float(sys.argv[5]) if len(sys.argv) > 5 else 60


def call(method, path, body=None):
    req = urllib.request.Request(url.rstrip("/") + path, method=method,
                                 data=json.dumps(body).encode() if body else None,
                                 headers={"Authorization": "Bearer " + token,
                                          "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.load(r)
    except urllib.error.HTTPError as e:  # {reason, message, path}
        err = json.load(e)
        sys.exit("%s %s: %s: %s (at %r)" % (method, path, err["reason"],
                                            err["message"], err["path"]))


sent = call("POST", "/api/v1/messages", {
    "type": "REFERRAL_REQUEST", "case_ref": case_ref,
    "recipient_org": recipient, "recipient_node": node,
    "payload": {"needs": ["shelter", "medical care"], "urgent": True}})
mid = sent["message_id"]
print("sent", mid, "accepted by node", sent["node"] + ", receipt",
      sent["receipt_check"].split()[0])
deadline = time.monotonic() + timeout
while time.monotonic() < deadline:
    msg = call("GET", "/api/v1/messages/" + mid)
    if msg.get("status") in ("ACKNOWLEDGED", "REFUSED", "EXPIRED"):
        break
    time.sleep(0.5)
for e in msg["evidence"]:
    print(" ", e["step"] + ":", e["check"])
print("status:", msg.get("status"))
sys.exit(0 if msg.get("status") == "ACKNOWLEDGED" else 1)
