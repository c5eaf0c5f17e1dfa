#!/usr/bin/python3
"""The console on two real nodes, in headless Chromium (console_lib.py).

return: BG's case manager (bella, at bg-ngo's agent) and NG's receiving
organisation (nadia, at ng-naptip's agent) take a whole return through
their browsers: consent, referral, acknowledgement, risk assessment,
feedback, plan, travel, arrival, handover, monitoring, closure. Each step
is composed from its type's schema on one console and opened on the other.
A step the case rules refuse shows the rule's text. NG's coordinator (nora)
reads the node page; the auditor (audrey, at bg-ngo's agent with the
auditor's certificate) sees every proof verified on both nodes and
downloads NG's bundle to SHOTS/bundle-ng.json.

fork: after NG's history was rewritten, the auditor's page says NG failed.

console_federation_check.py return|fork BG_URL NG_URL POLLS SHOTS
"""
import datetime
import json
import sys
import urllib.parse

from selenium.common.exceptions import TimeoutException
from selenium.webdriver.support.ui import Select, WebDriverWait

from console_lib import Console, finish, ok

mode, bg_url, ng_url, polls, shots = sys.argv[1:6]
CASE = "BG-2026-W1"
MARKUP = '<img src=x onerror="window.pwned=1"><b>bold</b>'


def pause(c):
    try:
        WebDriverWait(c.drv, 0.1).until(lambda d: False)
    except TimeoutException:
        pass


def fill(c, prefix, payload):
    """Fills the generated form's fields named PREFIX.KEY as a person
    would: selects chosen, boxes ticked, lines typed."""
    for k, v in payload.items():
        name = prefix + "." + k
        if isinstance(v, dict):
            fill(c, name, v)
            continue
        found = c.css('[name="%s"]' % name)
        if not ok("the form has a field " + name, bool(found)):
            continue
        e = found[0]
        if e.tag_name == "select":
            Select(e).select_by_value(str(v).lower() if isinstance(v, bool)
                                      else str(v))
        elif e.get_attribute("type") == "checkbox":
            if bool(v) != e.is_selected():
                e.click()
        elif e.get_attribute("type") == "datetime-local":
            # The picker takes the browser's local time.
            c.drv.execute_script("""
              const [e, iso] = arguments, d = new Date(iso),
                    p = (n) => String(n).padStart(2, '0');
              e.value = `${d.getFullYear()}-${p(d.getMonth() + 1)}-` +
                        `${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
              e.dispatchEvent(new Event('input', {bubbles: true}));""", e, v)
        elif isinstance(v, list):
            e.send_keys("\n".join(v))
        else:
            e.send_keys(str(v))


def compose(c, type_, to, payload, consent="", reply=""):
    """Composes TYPE_ in the case on console C and sends it: (message id,
    the refusal shown)."""
    q = {"case": CASE, "type": type_, "to": to}
    if reply:
        q["reply"] = reply
    c.go("#/compose?" + urllib.parse.urlencode(q))
    c.wait("the form for " + type_,
           lambda: c.css('fieldset[data-path="payload"]'))
    if consent:
        c.css("#compose-consent")[0].send_keys(consent)
    fill(c, "payload", payload)
    c.css("#compose-send")[0].click()
    c.wait(type_ + ": an answer on the page", lambda: c.css(
        "#compose-sent a, #compose-result .error"))
    link = c.css("#compose-sent a")
    if link:
        return link[0].get_attribute("href").split("#/message/")[1], ""
    return "", c.text_of("#compose-result .error")


def opened(c, mid, expect):
    """Waits until message MID opens on console C with EXPECT in it."""
    for _ in range(int(polls)):
        c.go("#/message/" + mid)
        if c.css("#payload"):
            return expect in c.text_of("#payload")
        pause(c)
    return False


def step(name, sender, receiver, type_, to, payload, expect, **extra):
    mid, refusal = compose(sender, type_, to, payload, **extra)
    if not ok(name + ": sent from the browser", bool(mid), refusal):
        return ""
    ok(name + ": opens in the other organisation's browser",
       opened(receiver, mid, expect))
    return mid


def sign_in(c, name):
    c.sign_in(name, name + "'s long password")
    c.wait(name + " is signed in", lambda: c.css("#signout"))


def return_case():
    bg = Console(bg_url, polls, shots, insecure_tls=True)
    ng = Console(ng_url, polls, shots, insecure_tls=True)
    nora = Console(ng_url, polls, shots, insecure_tls=True)
    try:
        sign_in(bg, "bella")
        sign_in(ng, "nadia")
        sign_in(nora, "nora")
        step("consent", bg, ng, "CONSENT_RECORD", "ng-naptip",
             {"granted": True, "consent_ref": "C-W1",
              "recipient_org": "ng-naptip",
              "purpose": "voluntary return and reintegration"},
             "voluntary return")
        ref = step("referral", bg, ng, "REFERRAL_REQUEST", "ng-naptip",
                   {"needs": ["shelter", "medical care"], "reason": MARKUP},
                   "shelter", consent="C-W1")
        ok("markup in a payload shows as text on NG's console",
           MARKUP in ng.text_of("#payload") and
           ng.drv.execute_script("return window.pwned") is None)
        # NG's coordinator sees the acknowledgement NG owes coming up.
        nora.go("#/node")
        nora.wait("the node page", lambda: nora.css("#facts"))
        ok("the node page lists the referral's acknowledgement as coming up",
           CASE in nora.text_of("#upcoming") and
           "REFERRAL_ACK_DUE" in nora.text_of("#upcoming") and
           "ng-naptip" in nora.text_of("#upcoming"),
           nora.text_of("main")[-600:])
        # NG answers from the referral's page: the answer is pre-filled.
        ng.go("#/message/" + ref)
        ng.wait("the referral's page", lambda: ng.css("#answer-referral"))
        ng.css("#answer-referral")[0].click()
        ng.wait("the answer's form", lambda: ng.css(
            'select[name="payload.accepted"]'))
        ok("the answer is a REFERRAL_ACK to bg-ngo in the case",
           ng.css("#compose-type")[0].get_attribute("value") ==
           "REFERRAL_ACK" and
           ng.css("#compose-to")[0].get_attribute("value") == "bg-ngo" and
           ng.css("#compose-case")[0].get_attribute("value") == CASE)
        fill(ng, "payload", {"accepted": True, "contact": {
            "name": "Ada Obi", "role": "case manager"}})
        ng.css("#compose-send")[0].click()
        ng.wait("the answer is sent", lambda: ng.css("#compose-sent a"))
        answer = ng.css("#compose-sent a")
        ok("acknowledgement: sent from the browser", bool(answer))
        if answer:
            mid = answer[0].get_attribute("href").split("#/message/")[1]
            ok("acknowledgement: opens at BG, answering the referral",
               opened(bg, mid, "Ada Obi") and
               ref in bg.text_of("main"), bg.text_of("main")[:400])
        departure = (datetime.datetime.now(datetime.timezone.utc) +
                     datetime.timedelta(days=9)).strftime("%Y-%m-%dT%H:%M:00Z")
        mid, refusal = compose(bg, "TRAVEL_ARRANGEMENT", "ng-naptip",
                               {"departure": departure}, consent="C-W1")
        ok("travel before a risk assessment is refused on the page",
           not mid and "RISK_ASSESSMENT_REQUIRED" in refusal, refusal)
        ok("with the rule's text", "risk assessment" in refusal.lower() and
           len(refusal) > 60, refusal)
        bg.shot("refused-step")
        # From the case's page, a new message is pre-filled from the case.
        bg.go("#/case/" + CASE)
        bg.wait("BG's case page", lambda: bg.css("#compose-in-case"))
        bg.css("#compose-in-case")[0].click()
        bg.wait("the compose page from the case", lambda: bg.css(
            "#compose-consent"))
        ok("pre-filled from the case: the case, the recipient, the consent",
           bg.css("#compose-case")[0].get_attribute("value") == CASE and
           bg.css("#compose-to")[0].get_attribute("value") == "ng-naptip" and
           bg.css("#compose-consent")[0].get_attribute("value") == "C-W1",
           [bg.css(x)[0].get_attribute("value") for x in
            ["#compose-case", "#compose-to", "#compose-consent"]])
        step("risk assessment", bg, ng, "RISK_ASSESSMENT", "ng-naptip",
             {"threat_to_life_or_health": False,
              "re_trafficking_risk": "low"}, "low", consent="C-W1")
        step("risk feedback", ng, bg, "RISK_FEEDBACK", "bg-ngo",
             {"agrees": True, "local_safety_measures": "escort from Lagos"},
             "escort from Lagos")
        step("plan", bg, ng, "REINTEGRATION_PLAN", "ng-naptip",
             {"agreed": True, "goals": ["housing", "vocational training"]},
             "vocational training", consent="C-W1")
        step("travel", bg, ng, "TRAVEL_ARRANGEMENT", "ng-naptip",
             {"departure": departure, "reception_point": "Lagos airport"},
             "Lagos airport", consent="C-W1")
        step("arrival", ng, bg, "ARRIVAL_CONFIRMATION", "bg-ngo",
             {"remarks": "arrived well"}, "arrived well")
        step("handover", ng, bg, "HANDOVER_CONFIRMATION", "bg-ngo",
             {"received_by": {"name": "Ada Obi"}}, "Ada Obi")
        step("monitoring", ng, bg, "MONITORING_REPORT", "bg-ngo",
             {"progress": "in vocational training"}, "vocational training")
        closure = step("closure", bg, ng, "CASE_CLOSURE", "ng-naptip",
                       {"reason": "COMPLETED"}, "COMPLETED")

        # The sender's page shows the acknowledgement, its signature valid.
        for _ in range(int(polls)):
            bg.go("#/message/" + closure)
            if "ACKNOWLEDGED" in bg.text_of("#message-status"):
                break
            pause(bg)
        ok("the closure is acknowledged, its signature valid on BG's page",
           "ACKNOWLEDGED" in bg.text_of("#message-status") and
           any("acknowledgement" in li.text and "valid" in li.text
               for li in bg.css("#evidence li.ok")),
           bg.text_of("#evidence"))
        bg.go("#/case/" + CASE)
        timeline = bg.text_of("#timeline")
        ok("BG's case page: closed, every step on the timeline",
           "CLOSED" in bg.text_of("#case-state") and all(
               t in timeline for t in [
                   "CONSENT_RECORD", "REFERRAL_REQUEST", "REFERRAL_ACK",
                   "RISK_ASSESSMENT", "RISK_FEEDBACK", "REINTEGRATION_PLAN",
                   "TRAVEL_ARRANGEMENT", "ARRIVAL_CONFIRMATION",
                   "HANDOVER_CONFIRMATION", "MONITORING_REPORT",
                   "CASE_CLOSURE"]), timeline)
        bg.shot("case-two-nodes")

        # NG's coordinator: the node, its link to BG, its certificate.
        ng.quit()
        ng = nora
        ng.go("#/node")
        ng.wait("the node page", lambda: ng.css("#facts"))
        ok("the node page names node ng",
           "ng" in ng.text_of("#page-title"), ng.text_of("#page-title"))
        peer = ng.css('#peers tr[data-peer="bg"]')
        ok("the link to BG is listed as reachable",
           bool(peer) and "yes" in peer[0].text,
           peer[0].text if peer else ng.text_of("main")[:400])
        ok("the node's TLS certificate's end is shown",
           "20" in ng.text_of("#facts"), ng.text_of("#facts"))
        ok("what needs attention is said", bool(ng.css("#warnings")))
        ok("no overdue deadline at NG", bool(ng.css("p#overdue")))
        ok("nothing coming up once the case is closed",
           bool(ng.css("p#upcoming")), ng.text_of("main")[-400:])
        ok("the node page's controls are labelled", not ng.labelled())
        ng.shot("coordinator")
        ng.contrast("the coordinator's page")
        ng.keyboard("the coordinator's page")

        # The auditor: the case across both nodes, every proof verified.
        bg.sign_out()
        sign_in(bg, "audrey")
        bg.go("#/audit?" + urllib.parse.urlencode({"case": CASE}))
        bg.wait("the auditor's trail", lambda: bg.css("#audit-verdict"))
        ok("the auditor's page says verified",
           "ok" in bg.css("#audit-verdict")[0].get_attribute("class"),
           bg.text_of("main")[:600])
        for n in ["bg", "ng"]:
            row = bg.css('#audit-nodes tr[data-node="%s"]' % n)
            ok("node %s's log verified" % n,
               bool(row) and "verified" in row[0].text,
               row[0].text if row else "")
        entries = bg.css("#audit-entries tbody tr")
        ok("the merged trail holds both nodes' entries", len(entries) >= 30 and
           {"bg", "ng"} <= {e.find_elements("css selector", "td")[1].text
                            for e in entries}, len(entries))
        ok("every entry's proof verified", not bg.css("#audit-entries tr.failed"))
        ok("the flow map has the links BG to NG and NG to BG",
           bool(bg.css('#flow-map g.flow[data-from="bg"][data-to="ng"]')) and
           bool(bg.css('#flow-map g.flow[data-from="ng"][data-to="bg"]')))
        ok("the auditor's page shows no payload",
           all(s not in bg.text_of("main")
               for s in ["Ada Obi", "vocational training", "Lagos airport"]))
        ok("the audit page's controls are labelled", not bg.labelled())
        bg.shot("auditor")
        bg.contrast("the auditor's page")
        bg.keyboard("the auditor's page")
        link = bg.css('a.bundle[href*="node=ng"]')
        if ok("NG's bundle can be downloaded", bool(link)):
            href = link[0].get_attribute("href")
            status, text = bg.fetch("GET", href, {})
            ok("the bundle is served", status == 200, text[:300])
            with open(shots + "/bundle-ng.json", "w") as f:
                f.write(text)
    finally:
        bg.quit()
        ng.quit()
        nora.quit()


def fork():
    bg = Console(bg_url, polls, shots, insecure_tls=True)
    try:
        sign_in(bg, "audrey")
        route = "#/audit?" + urllib.parse.urlencode({"case": CASE})
        row = ""
        for _ in range(int(polls)):
            bg.go(route)
            rows = bg.css('#audit-nodes tr[data-node="ng"]')
            row = rows[0].text if rows else ""
            if "rewritten" in row and bg.css("#audit-alarms"):
                break
            pause(bg)
        ok("NG's log fails: its history was rewritten", "rewritten" in row,
           row)
        ok("the page says not verified, as an alert",
           bg.css('#audit-verdict[role="alert"]'), bg.text_of("main")[:500])
        bg_row = bg.css('#audit-nodes tr[data-node="bg"]')
        ok("BG's log still verifies", bool(bg_row) and
           "verified" in bg_row[0].text)
        ok("BG's own fork alarm about NG is shown",
           "ng" in bg.text_of("#audit-alarms"), bg.text_of("main")[-500:])
        ok("NG offers no bundle now", not bg.css('a.bundle[href*="node=ng"]'))
        bg.shot("auditor-fork")
    finally:
        bg.quit()


return_case() if mode == "return" else fork()
finish("the console works on two nodes (%s)" % mode)
