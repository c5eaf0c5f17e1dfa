#!/usr/bin/env python3
"""A message the agent refused is not in its store, and its event stream
says "refused" for it (ids and types only).

agent_refused_check.py AGENT_URL TOKEN MESSAGE_ID
"""
import json
import sys
import urllib.error
import urllib.request

url, token, mid = sys.argv[1:4]
base = url.rstrip("/").replace("/api/v1", "")


def get(path, headers=None):
    h = dict(headers or {}, Authorization="Bearer " + token)
    return urllib.request.urlopen(urllib.request.Request(base + path,
                                                         headers=h),
                                  timeout=30)


try:
    get("/api/v1/messages/" + mid)
    sys.exit("FAIL: the refused message is in the agent's store")
except urllib.error.HTTPError as e:
    body = json.load(e)
    if e.code != 404 or body.get("reason") != "AGENT_MESSAGE_NOT_FOUND":
        sys.exit("FAIL: the refused message: %d %s" % (e.code, body))
with get("/api/v1/events", {"Last-Event-ID": "0"}) as stream:
    kind = None
    for _ in range(400):
        line = stream.readline().decode()
        if line.startswith("event: "):
            kind = line[7:].strip()
        elif line.startswith("data: "):
            data = json.loads(line[6:])
            if data.get("message_id") != mid:
                continue
            if kind != "refused" or data.get("type") != "CONSENT_RECORD":
                sys.exit("FAIL: the event for it: %s %s" % (kind, data))
            print("ok   not stored; event: refused " + json.dumps(data))
            sys.exit(0)
sys.exit("FAIL: no event for the refused message")
