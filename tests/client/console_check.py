#!/usr/bin/python3
"""The console in headless Chromium (python3-selenium, Debian's chromium
and chromium-driver), against bg-naptip's agent, with bg-ngo's agent
sending through its JSON API. Every wait is for the event itself.

console_check.py NAPTIP_URL NGO_URL NGO_TOKEN NAPTIP_TOKEN POLLS SHOTS_DIR
"""
import json
import re
import sys
import urllib.error
import urllib.request

from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

from console_lib import Console, finish, ok

naptip, ngo, ngo_tok, naptip_tok, polls, shots = sys.argv[1:7]
MARKUP = '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>'


def call(base, token, method, path, body=None):
    req = urllib.request.Request(
        base + "/api/v1" + path, method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": "Bearer " + token,
                 "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.load(r), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e), dict(e.headers)


def send_to_naptip(case, payload):
    """A consent, then a referral (the node's case rules are on)."""
    to = {"recipient_org": "bg-naptip", "recipient_node": "bg"}
    code, out, _ = call(ngo, ngo_tok, "POST", "/messages", dict(
        type="CONSENT_RECORD", case_ref=case, payload={
            "granted": True, "consent_ref": "C-" + case,
            "recipient_org": "bg-naptip", "purpose": "referral"}, **to))
    ok("bg-ngo sends the consent of %s through its API" % case, code == 200,
       out)
    code, out, _ = call(ngo, ngo_tok, "POST", "/messages", dict(
        type="REFERRAL_REQUEST", case_ref=case, consent_ref="C-" + case,
        payload=payload, **to))
    ok("bg-ngo sends the referral of %s through its API" % case, code == 200,
       out)
    return out.get("message_id", "")


def stored_at_naptip(mid):
    for _ in range(int(polls)):
        code, m, _ = call(naptip, naptip_tok, "GET", "/messages/" + mid)
        if code == 200 and "payload" in m:
            return True
        wait_a_little()
    return False


def wait_a_little():
    try:
        WebDriverWait(drv, 0.1).until(lambda d: False)
    except TimeoutException:
        pass


# The pages' headers, before any browser: a strict policy, no inline script.
with urllib.request.urlopen(naptip + "/console/", timeout=30) as r:
    policy = r.headers.get("Content-Security-Policy", "")
    page = r.read().decode()
ok("the console has a strict Content-Security-Policy",
   "script-src 'self'" in policy and "unsafe" not in policy and
   "default-src 'none'" in policy, policy)
ok("the page has no inline script", "<script>" not in page and
   'type="module" src="app.js"' in page)
with urllib.request.urlopen(naptip + "/console/app.js", timeout=30) as r:
    ok("scripts are served as JavaScript",
       r.headers.get("Content-Type", "").startswith("text/javascript"))

console = Console(naptip, polls, shots)
drv, wait, css, text_of = console.drv, console.wait, console.css, console.text_of
shot, labelled, go, sign_in = (console.shot, console.labelled, console.go,
                               console.sign_in)


def fetch(method, path, headers):
    status, text = console.fetch(method, path, headers, '{"read": true}')
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


try:
    xss = send_to_naptip("BG-C1", {"needs": ["shelter"], "reason": MARKUP})
    ok("it is stored at bg-naptip's agent", stored_at_naptip(xss))
    other = send_to_naptip("BG-C2", {"needs": ["medical"],
                                     "reason": "not for this office"})
    ok("a second one is stored", stored_at_naptip(other))

    # Sign-in: refused with the wrong password, said on the page.
    sign_in("amira", "not the password")
    err = wait("a wrong password is refused on the page",
               lambda: text_of("#signin-result .error"))
    ok("the refusal names its reason", err and
       "AGENT_UNAUTHENTICATED" in err, err)
    ok("the sign-in page's controls are labelled", not labelled(), labelled())
    ok("the skip link comes first in the focus order",
       drv.execute_script("""document.activeElement.blur();
         return document.querySelector('a, button, input, select, textarea')
                .id;""") == "skip")
    cookie_before = drv.get_cookies()
    ok("no session cookie before signing in", not any(
        c["name"] == "trm_session" for c in cookie_before))

    sign_in("amira", "amira's long password")
    wait("the inbox after signing in", lambda: css("a.msg-link"))
    ok("the header names the user, the organisation and the node",
       "amira" in text_of("#who") and "bg-naptip" in text_of("#who") and
       "bg" in text_of("#who"), text_of("#who"))
    cookie = [c for c in drv.get_cookies() if c["name"] == "trm_session"]
    ok("the session is an HttpOnly SameSite=Strict cookie", cookie and
       cookie[0]["httpOnly"] and cookie[0].get("sameSite") == "Strict",
       cookie)
    ok("a script cannot read the session",
       "trm_session" not in drv.execute_script("return document.cookie"))
    rows = css("table.list tbody tr")
    ok("the inbox lists the four messages, unread", len(rows) == 4 and
       all("unread" in r.get_attribute("class") for r in rows), len(rows))
    ok("the inbox's controls are labelled", not labelled(), labelled())
    shot("inbox")
    console.contrast("the inbox page")
    console.keyboard("the inbox page")

    # The event stream: new messages appear in the open inbox by themselves.
    send_to_naptip("BG-C4", {"needs": ["legal advice"]})
    wait("the open inbox shows the new messages by itself",
         lambda: len(css("table.list tbody tr")) == 6)
    ok("the status line announces them", "BG-C4" in text_of("#foot"),
       text_of("#foot"))

    # The message with markup: shown as text, never run.
    go("#/message/" + xss)
    wait("the message page", lambda: css("#payload dd"))
    ok("a payload with markup shows as text", MARKUP in text_of("#payload"),
       text_of("#payload"))
    ok("no element came from the payload",
       not css("#payload img") and not css("#payload script"))
    ok("and nothing in it ran",
       drv.execute_script("return window.pwned === undefined"))
    ok("the evidence names the stored step, every check valid",
       "stored" in text_of("#evidence") and len(css("#evidence li.ok")) ==
       len(css("#evidence li")) >= 2, text_of("#evidence"))
    ok("the message page's controls are labelled", not labelled(), labelled())
    shot("message")
    console.contrast("the message page")

    # CSRF: a change with the cookie but without the session's token is
    # refused; with it, it passes.
    status, body = fetch("POST", "/api/v1/messages/%s/read" % xss,
                         {"Content-Type": "application/json"})
    ok("a change without the CSRF token is refused (403)", status == 403 and
       body.get("reason") == "AGENT_CSRF_REQUIRED", (status, body))
    status, body = fetch("POST", "/api/v1/messages/%s/read" % xss,
                         {"Content-Type": "application/json",
                          "X-CSRF-Token": "trm_" + "0" * 64})
    ok("a wrong CSRF token is refused too", status == 403, (status, body))

    # Reply: the compose form is generated from REFERRAL_ACK's schema and
    # pre-filled from the message.
    css("#reply")[0].click()
    wait("the compose page", lambda: css("#compose-type"))
    ok("the reply is pre-filled with the case and the recipient",
       css("#compose-case")[0].get_attribute("value") == "BG-C1" and
       css("#compose-to")[0].get_attribute("value") == "bg-ngo" and
       css("#compose-node")[0].get_attribute("value") == "bg")
    Select(css("#compose-type")[0]).select_by_value("REFERRAL_ACK")
    wait("the form for REFERRAL_ACK",
         lambda: css('select[name="payload.accepted"]'))
    ok("the required field is marked", css(
        '[data-path="payload.accepted"] .req'))
    ok("the compose page's controls are labelled", not labelled(), labelled())
    Select(css('select[name="payload.accepted"]')[0]).select_by_value("true")
    css('input[name="payload.contact.name"]')[0].send_keys("Ada Obi")
    shot("compose")
    console.contrast("the compose page")
    console.keyboard("the compose page")
    css("#compose-send")[0].click()
    sent = wait("the reply is sent", lambda: text_of("#compose-sent"))
    ok("the page says it was accepted with a valid receipt",
       sent and "valid receipt" in sent, sent)

    def at_ngo():
        code, box, _ = call(ngo, ngo_tok, "GET", "/messages?box=inbox")
        acks = [m for m in box if m["type"] == "REFERRAL_ACK"] if code == 200 \
            else []
        return acks[0] if acks else None
    ack = None
    for _ in range(int(polls)):
        ack = at_ngo()
        if ack:
            break
        wait_a_little()
    ok("the reply reached bg-ngo's agent", ack is not None)
    if ack:
        code, m, _ = call(ngo, ngo_tok, "GET", "/messages/" + ack["message_id"])
        ok("as the form filled it in", m.get("payload", {}).get(
            "accepted") is True and m["payload"].get("contact", {}).get(
            "name") == "Ada Obi" and m["header"].get("in_reply_to") == xss, m)

    def refused_send(route, type_, field, value):
        """Composes TYPE_ at ROUTE with FIELD set, sends it, and returns
        the refusal the page shows."""
        go(route)
        Select(css("#compose-type")[0]).select_by_value(type_)
        wait("the form for " + type_, lambda: css(field))
        css(field)[0].send_keys(value)
        css("#compose-send")[0].click()
        return wait("the refusal of " + type_ + " is shown",
                    lambda: text_of("#compose-result .error"))

    # An API refusal is shown with its reason.
    err = refused_send("#/compose?case=BG-C9&to=xx-nobody",
                       "INFORMATION_REQUEST", 'input[name="payload.question"]',
                       "where?")
    ok("with the API's reason token", err and any(
        tok in err for tok in ["KEY_FILE_IO", "UNKNOWN_ORGANISATION"]), err)

    # A case rule's refusal shows the node's own text: no referral carries
    # the person's data before a consent covers its recipient.
    err = refused_send("#/compose?case=BG-C3&to=bg-ngo&node=bg",
                       "REFERRAL_REQUEST", 'textarea[name="payload.needs"]',
                       "shelter")
    ok("with the rule's reason and its text", err and
       "CONSENT_REQUIRED" in err and "CONSENT_RECORD" in err, err)

    # Refusing the message that is not ours.
    go("#/message/" + other)
    wait("the second message", lambda: css("#refuse-form"))
    Select(css("#refuse-reason")[0]).select_by_value("NOT_OURS")
    css("#refuse-text")[0].send_keys("not a case of this office")
    css("#refuse-form button")[0].click()
    refusal = wait("the refusal is recorded", lambda: text_of("#refusal"))
    ok("the page shows the refusal", refusal and "NOT_OURS" in refusal and
       "amira" in refusal, refusal)
    for _ in range(int(polls)):
        code, m, _ = call(ngo, ngo_tok, "GET", "/messages/" + other)
        if m.get("status") == "REFUSED":
            break
        wait_a_little()
    ok("bg-ngo sees it REFUSED", m.get("status") == "REFUSED", m)

    # Cases and a case's timeline.
    go("#/cases")
    wait("the case list", lambda: css("#cases a"))
    ok("the case list names both cases", "BG-C1" in text_of("#cases") and
       "BG-C2" in text_of("#cases"), text_of("#cases"))
    go("#/case/BG-C1")
    wait("the case page", lambda: css("#timeline li"))
    ok("the timeline has the consent, the referral and the reply",
       all(ty in text_of("#timeline") for ty in [
           "CONSENT_RECORD", "REFERRAL_REQUEST", "REFERRAL_ACK"]),
       text_of("#timeline"))
    ok("the case's state is shown", text_of("#case-state"),
       text_of("#case-state"))
    shot("case")
    console.contrast("the case page")

    # Arabic, right to left, for this user; the choice is kept.
    Select(css("#language")[0]).select_by_value("ar")
    wait("Arabic", lambda: drv.execute_script(
        "return document.documentElement.dir") == "rtl")
    ok("lang and dir are set", drv.execute_script(
        "return document.documentElement.lang") == "ar")
    ok("the navigation is in Arabic", "الوارد" in text_of("#nav"),
       text_of("#nav"))
    shot("arabic")
    console.contrast("the arabic page")
    # The node's texts in Arabic: the next step, and a case rule's refusal
    # with the node's own English words beneath.
    go("#/case/BG-C1")
    wait("the case page in Arabic", lambda: css("#case-next"))
    ok("the next step is in Arabic", re.search(
        "[\u0600-\u06ff]{4}.*[\u0600-\u06ff]{4}", text_of("#case-next")) and
       "receiving" not in text_of("#case-next"), text_of("#case-next"))
    err = refused_send("#/compose?case=BG-C3&to=bg-ngo&node=bg",
                       "REFERRAL_REQUEST", 'textarea[name="payload.needs"]',
                       "shelter")
    ok("a case rule's refusal is said in Arabic", err and
       "CONSENT_REQUIRED" in err and "قاعدة الحالة" in err, err)
    ok("with the node's words beneath, marked as English",
       css('#compose-result details.node-words p[lang="en"]'))
    console.keyboard("the arabic compose page")
    drv.refresh()
    wait("Arabic kept after a reload", lambda: drv.execute_script(
        "return document.documentElement.dir") == "rtl")
    Select(css("#language")[0]).select_by_value("en")
    wait("back to English", lambda: drv.execute_script(
        "return document.documentElement.dir") == "ltr")

    # Sign-out ends the session for good.
    css("#signout")[0].click()
    wait("the sign-in page after signing out", lambda: css("#signin-name"))
    status, body = fetch("GET", "/api/v1/me", {})
    ok("the session is over", status == 401, (status, body))

    # An auditor reads headers and evidence, never a payload.
    sign_in("audrey", "audrey's long password")
    wait("the auditor's inbox", lambda: css("a.msg-link"))
    ok("an auditor has no compose link", "New message" not in text_of("#nav"))
    go("#/message/" + xss)
    wait("the auditor's message page", lambda: css("#evidence li"))
    ok("an auditor sees no payload", not css("#payload") and
       "shelter" not in text_of("main"), text_of("main")[:300])
finally:
    console.quit()

finish("the console works in a real browser")
