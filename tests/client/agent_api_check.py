#!/usr/bin/env python3
"""Drives two trm-agents' JSON API with the standard library only.

agent_api_check.py SENDER_URL SENDER_TOKEN RECEIVER_URL RECEIVER_TOKEN
                   AUDITOR_TOKEN POLLS USER PASSWORD

USER and PASSWORD name a caseworker of the receiver who signs in.
"""
import json
import sys
import time
import urllib.error
import urllib.request

sender, s_tok, receiver, r_tok, a_tok, polls, user, password = sys.argv[1:9]
failures = []


def call(base, method, path, token=None, body=None, raw=None):
    data = raw if raw is not None else (
        json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(base.rstrip("/").replace("/api/v1", "") + path,
                                 data=data, method=method)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def expect(what, got, status, reason=None, path=None):
    code, body = got
    ok = code == status
    if reason is not None:
        ok = ok and isinstance(body, dict) and body.get("reason") == reason
    if path is not None:
        ok = ok and body.get("path") == path
    if reason is not None and ok:
        ok = bool(body.get("message"))
    print(("ok   " if ok else "FAIL ") + what + ": " + str(code) + " " +
          json.dumps(body)[:300])
    if not ok:
        failures.append(what)
    return body


me = expect("who am I", call(sender, "GET", "/api/v1/me", s_tok), 200)
if me.get("organisation") != "bg-ngo" or me.get("role") != "caseworker":
    failures.append("who am I names bg-ngo's caseworker")
types = expect("types", call(sender, "GET", "/api/v1/types", s_tok), 200)
by_type = {t["type"]: t for t in types}
rr = by_type.get("REFERRAL_REQUEST", {})
if "needs" not in rr.get("payload_schema", {}).get("properties", {}):
    failures.append("REFERRAL_REQUEST's schema lists its fields")
if by_type.get("CONSENT_RECORD", {}).get("outcomes") != [
        "CONSENT_GRANTED", "CONSENT_WITHDRAWN"]:
    failures.append("CONSENT_RECORD's outcomes")
if "DEADLINE_NOTICE" in by_type:
    failures.append("DEADLINE_NOTICE is the node's own, not offered")
expect("organisations without a directory",
       call(sender, "GET", "/api/v1/organisations", s_tok), 422,
       "NO_DIRECTORY")

referral = {"type": "REFERRAL_REQUEST", "case_ref": "BG-2026-41",
            "recipient_org": "bg-naptip", "recipient_node": "bg",
            "payload": {"needs": ["needs a shelter bed"], "urgent": True}}
sent = expect("send", call(sender, "POST", "/api/v1/messages", s_tok,
                           referral), 200)
mid = sent.get("message_id", "")
if sent.get("receipt_check", "").split(" ")[0] != "valid":
    failures.append("the receipt was checked: " + str(sent.get("receipt_check")))

# The rows of bad input, one each.
expect("no token", call(sender, "GET", "/api/v1/me"), 401,
       "AGENT_UNAUTHENTICATED")
expect("a wrong token", call(sender, "GET", "/api/v1/me", "trm_" + "0" * 64),
       401, "AGENT_UNAUTHENTICATED")
expect("malformed JSON", call(sender, "POST", "/api/v1/messages", s_tok,
                              raw=b"{\"type\": "), 400,
       "AGENT_REQUEST_INVALID")
expect("unknown type", call(sender, "POST", "/api/v1/messages", s_tok,
                            dict(referral, type="LOVE_LETTER")), 400,
       "AGENT_TYPE_UNKNOWN", "type")
expect("payload against its schema",
       call(sender, "POST", "/api/v1/messages", s_tok,
            dict(referral, payload={"urgent": "very"})), 400,
       "JSON_INVALID", "payload")
expect("an unknown payload field",
       call(sender, "POST", "/api/v1/messages", s_tok,
            dict(referral, payload={"name_of_person": "x"})), 400,
       "JSON_INVALID", "payload")
# Offline keys (no directory here): no key file for the recipient.
expect("recipient not known",
       call(sender, "POST", "/api/v1/messages", s_tok,
            dict(referral, recipient_org="xx-nobody")), 422, "KEY_FILE_IO")
expect("oversize body", call(sender, "POST", "/api/v1/messages", s_tok,
                             raw=b" " * (2 << 20)), 413,
       "AGENT_BODY_TOO_LARGE")
expect("unknown route", call(sender, "GET", "/api/v1/nothing", s_tok), 404,
       "AGENT_ROUTE_UNKNOWN")
expect("a bad outcome", call(sender, "POST", "/api/v1/messages", s_tok,
                             dict(referral, outcome="MAYBE")), 400,
       "AGENT_REQUEST_INVALID", "outcome")

out = expect("outbox", call(sender, "GET", "/api/v1/messages?box=outbox",
                            s_tok), 200)
if [m["message_id"] for m in out] != [mid]:
    failures.append("the outbox holds the sent message")

# The receiving agent pulls, stores, acknowledges: wait for the event.
inbox = []
for _ in range(int(polls)):
    inbox = call(receiver, "GET", "/api/v1/messages?unread=true", r_tok)[1]
    if inbox:
        break
    time.sleep(0.1)
if [m["message_id"] for m in inbox] != [mid]:
    failures.append("the receiver's inbox shows the message: " + str(inbox))
msg = expect("open the message",
             call(receiver, "GET", "/api/v1/messages/" + mid, r_tok), 200)
if msg.get("payload", {}).get("needs") != ["needs a shelter bed"]:
    failures.append("the payload opens as JSON: " + str(msg.get("payload")))
if msg.get("header", {}).get("sender_org") != "bg-ngo":
    failures.append("the header names the sender")
aud = expect("an auditor reads the header",
             call(receiver, "GET", "/api/v1/messages/" + mid, a_tok), 200)
if "payload" in aud:
    failures.append("an auditor never sees a payload")
expect("an auditor may not send",
       call(receiver, "POST", "/api/v1/messages", a_tok, referral), 403,
       "AGENT_ROLE_REQUIRED")
expect("mark read", call(receiver, "POST", "/api/v1/messages/%s/read" % mid,
                         r_tok, {"read": True}), 200)
unread = call(receiver, "GET", "/api/v1/messages?unread=true", r_tok)[1]
if unread:
    failures.append("marked read leaves the unread list")
expect("a note", call(receiver, "POST", "/api/v1/messages/%s/notes" % mid,
                      r_tok, {"text": "called the shelter"}), 200)
expect("an unknown message",
       call(receiver, "GET", "/api/v1/messages/" + "0" * 32, r_tok), 404,
       "AGENT_MESSAGE_NOT_FOUND")
status = expect("the sender sees the evidence",
                call(sender, "GET", "/api/v1/messages/" + mid, s_tok), 200)
steps = [e["step"] for e in status.get("evidence", [])]
if "acknowledgement" not in " ".join(steps):
    failures.append("the acknowledgement is in the evidence: " + str(steps))

def wait_event(base, token, want, seconds):
    """The first event from the start of the ring (Last-Event-ID: 0) for
    which want(kind, data) holds, reading for at most `seconds`."""
    req = urllib.request.Request(base.rstrip("/").replace("/api/v1", "") +
                                 "/api/v1/events")
    req.add_header("Authorization", "Bearer " + token)
    req.add_header("Last-Event-ID", "0")
    end = time.monotonic() + seconds
    with urllib.request.urlopen(req, timeout=30) as stream:
        if stream.headers.get("Content-Type", "").split(";")[0] != \
                "text/event-stream":
            failures.append("events are text/event-stream")
        kind = None
        while time.monotonic() < end:
            line = stream.readline().decode()
            if line.startswith("event: "):
                kind = line[7:].strip()
            elif line.startswith("data: "):
                data = json.loads(line[6:])
                if want(kind, data):
                    return kind, data
    return None, None


# The event stream: the message's arrival with its id, type and case, and
# nothing personal; the sender's node status as it changes.
wait_s = int(polls) / 5
_, seen = wait_event(receiver, a_tok,
                     lambda k, d: k == "message" and d.get("message_id") == mid,
                     wait_s)
if seen != {"message_id": mid, "type": "REFERRAL_REQUEST",
            "case_ref": "BG-2026-41"}:
    failures.append("the event stream told of the message, ids only: " +
                    str(seen))
else:
    print("ok   the event stream: message " + json.dumps(seen))
_, seen = wait_event(sender, s_tok,
                     lambda k, d: k == "status" and d.get("message_id") == mid
                     and d.get("state") == "ACKNOWLEDGED", wait_s)
if not seen:
    failures.append("the sender's event stream told of the acknowledgement")
else:
    print("ok   the event stream: status " + json.dumps(seen))

# Sign-in with a password: a session token that works until sign-out.
expect("sign in with a wrong password",
       call(receiver, "POST", "/api/v1/sessions", None,
            {"name": user, "password": password + "x"}), 401,
       "AGENT_UNAUTHENTICATED")
expect("sign in without a password",
       call(receiver, "POST", "/api/v1/sessions", None, {"name": user}), 400,
       "AGENT_REQUEST_INVALID")
session = expect("sign in", call(receiver, "POST", "/api/v1/sessions", None,
                                 {"name": user, "password": password}), 200)
s_token = session.get("token", "")
if session.get("role") != "caseworker" or not session.get("idle_timeout_s"):
    failures.append("the session names the role and its idle timeout")
me = expect("who am I, signed in", call(receiver, "GET", "/api/v1/me",
                                        s_token), 200)
if me.get("user") != user or me.get("organisation") != "bg-naptip":
    failures.append("the session is the user's: " + str(me))
expect("read the message signed in",
       call(receiver, "GET", "/api/v1/messages/" + mid, s_token), 200)
expect("sign out", call(receiver, "DELETE", "/api/v1/sessions", s_token), 200)
expect("the session ends with sign-out",
       call(receiver, "GET", "/api/v1/me", s_token), 401,
       "AGENT_UNAUTHENTICATED")

# Every route of the OpenAPI document answers (not AGENT_ROUTE_UNKNOWN).
doc = expect("openapi", call(sender, "GET", "/api/v1/openapi.json"), 200)
for path, ops in doc["paths"].items():
    for method in ops:
        if path == "/api/v1/events" or (path, method) == ("/api/v1/sessions",
                                                         "delete"):
            continue
        p = path.replace("{id}", mid).replace("{ref}", "BG-2026-41")
        code, body = call(sender, method.upper(), p, s_tok,
                          {} if method == "post" else None)
        if isinstance(body, dict) and body.get("reason") == "AGENT_ROUTE_UNKNOWN":
            failures.append("documented but not served: %s %s" % (method, path))
        if code == 500:
            failures.append("%s %s answered 500: %s" % (method, path, body))

if failures:
    print("FAILED: " + "; ".join(failures))
    sys.exit(1)
print("agent API checks passed")
