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

stats: NG's coordinator (nora) reads NG's statistics page once five
referrals BG>NG (this month, each acknowledged) are in: the referrals and
acknowledgement charts draw BG>NG, the months below the threshold are marked
and never drawn to a height, the monitoring chart says it has too few, the
table shows "fewer than 5" and no count below it, and a caseworker has no
such page.

console_federation_check.py return|fork|stats BG_URL NG_URL POLLS SHOTS
"""
import datetime
import json
import re
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


def statistics():
    nora = Console(ng_url, polls, shots, insecure_tls=True)
    nadia = Console(ng_url, polls, shots, insecure_tls=True)
    audrey = Console(bg_url, polls, shots, insecure_tls=True)
    try:
        sign_in(nora, "nora")
        ok("the coordinator's menu has the statistics",
           bool(nora.css('#nav a[href="#/stats"]')))
        nora.go("#/stats")
        nora.wait("the statistics page", lambda: nora.css("#stats-table"))
        month = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m")
        bars = nora.css('#chart-referrals g.point[data-route="BG>NG"]'
                        '[data-period="%s"] rect.bar' % month)
        ok("the referrals chart draws BG>NG's five this month", len(bars) == 1,
           nora.text_of("main")[:800])
        other = nora.css('#chart-referrals g.point[data-route="BG>NG"] '
                         'rect.suppressed')
        ok("BG>NG's other months are marked, not drawn to a height",
           len(other) >= 1 and all(r.get_attribute("height") == "4"
                                   for r in other), len(other))
        titles = [t.get_attribute("textContent") for t in nora.css(
            '#chart-referrals g.point[data-route="BG>NG"] title')]
        ok("each bar says its count, each marked month says fewer than 5",
           "BG>NG %s: 5" % month in titles and
           any(t.endswith("fewer than 5") for t in titles), titles[-3:])
        ok("routes with nothing shown are named, not drawn",
           "NG>BG" in nora.text_of("#stats-hidden") and
           not nora.css('#chart-referrals g.point[data-route="NG>BG"]'),
           nora.text_of("#stats-hidden"))
        ack = nora.css('#chart-ack g.route[data-route="BG>NG"]')
        ok("the time to acknowledge is drawn for BG>NG (5 acknowledged)",
           bool(ack) and "median" in ack[0].text, nora.text_of("main")[:800])
        ok("the monitoring chart has too few reports to show",
           bool(nora.css("#chart-monitoring-none")))
        row = nora.css('#stats-table tr[data-measure="referrals"]')
        cells = [c.text for c in row[0].find_elements("css selector", "td")] \
            if row else []
        ok("the table: BG>NG's referrals, and fewer than 5 elsewhere",
           any(c == "5" or c.startswith("5 (") for c in cells) and
           "fewer than 5" in cells, cells)
        every = [c.text for c in nora.css("#stats-table td")]
        ok("no count below 5 shows in the table",
           every and not any(re.match(r"^[1-4](\s|$)", c) for c in every),
           every[:40])
        ok("the threshold is said", "fewer than 5" in
           nora.text_of("#stats-rule"), nora.text_of("#stats-rule"))
        ok("the statistics page's controls are labelled", not nora.labelled())
        nora.shot("statistics")
        nora.contrast("the statistics page")
        nora.keyboard("the statistics page")
        # The auditor at BG's agent, whose scope is BG and NG, reads NG's.
        sign_in(audrey, "audrey")
        ok("the auditor's menu has the statistics",
           bool(audrey.css('#nav a[href="#/stats"]')))
        audrey.go("#/stats")
        audrey.wait("the auditor's statistics page",
                    lambda: audrey.css("#stats-table"))
        options = [o.get_attribute("value") for o in
                   audrey.css("#stats-node option")]
        ok("the auditor chooses among the nodes of its scope",
           options == ["bg", "ng"], options)
        Select(audrey.css("#stats-node")[0]).select_by_value("ng")
        audrey.css("#stats-query button[type=submit]")[0].click()
        audrey.wait("NG's statistics for the auditor",
                    lambda: "Node ng," in audrey.text_of("#stats-about"))
        bars = audrey.css('#chart-referrals g.point[data-route="BG>NG"]'
                          '[data-period="%s"] rect.bar' % month)
        ok("NG's five referrals BG>NG, as its coordinator sees them",
           len(bars) == 1, audrey.text_of("main")[:600])
        ok("the auditor's statistics page is labelled", not audrey.labelled())
        sign_in(nadia, "nadia")
        ok("a caseworker has no statistics in the menu",
           not nadia.css('#nav a[href="#/stats"]'))
        nadia.go("#/stats")
        nadia.wait("the refusal", lambda: nadia.css("main .error, main [role=alert]"))
        ok("and is told the role it needs",
           "AGENT_ROLE_REQUIRED" in nadia.text_of("main"),
           nadia.text_of("main")[:300])
    finally:
        nora.quit()
        nadia.quit()
        audrey.quit()


{"return": return_case, "fork": fork, "stats": statistics}[mode]()
finish("the console works on two nodes (%s)" % mode)
