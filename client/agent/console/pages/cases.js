// The organisation's cases, each with its state, the next step and what
// is owed by whom and by when; and one case with its timeline.
import {api} from "../api.js";
import {h, fill} from "../dom.js";
import {has, t, when} from "../i18n.js";
import {failure, fields, heading} from "../ui.js";

// The next step in the user's language, from the case's state.
function nextStep(c) {
  return has("next." + c.state) ? t("next." + c.state) : c.next_step;
}

// Which rule set a deadline: the federation's policy or the node's own.
function ruleOf(o) {
  if (!o.policy_version) return t("case.rule_node");
  return o.local_rule ? t("case.rule_local", o.policy_version)
                      : t("case.rule_policy", o.policy_version);
}

function owedList(owed) {
  if (!owed || owed.length === 0) return h("span", {text: t("case.nothing_owed")});
  return h("ul", {class: "owed"}, owed.map((o) =>
      h("li", {class: o.overdue ? "bad" : o.yours || o.paused_since ? "warn" : ""},
        o.paused_since
          ? t("case.paused", o.kind, o.owed_by, o.owed_to, when(o.paused_since),
              o.unreachable_node)
          : t("case.owed", o.kind, o.owed_by, o.owed_to, when(o.due)),
        h("span", {class: "rule", text: " (" + ruleOf(o) + ")"}),
        o.unreachable_since
          ? h("span", {class: "link", text: " " + t("case.unreachable",
              o.unreachable_node, when(o.unreachable_since), o.owed_by)})
          : null,
        o.overdue ? h("strong", {text: " " + t("case.overdue")}) : null)));
}

export async function cases(main) {
  fill(main, heading(t("cases.title")));
  let rows;
  try {
    rows = await api("GET", "/cases");
  } catch (err) {
    main.append(failure(err));
    return;
  }
  if (rows.length === 0) {
    main.append(h("p", {text: t("cases.empty")}));
    return;
  }
  main.append(h("table", {class: "list", id: "cases"},
    h("thead", {}, h("tr", {}, ["cases.col.case", "cases.col.state",
                                "cases.col.next", "cases.col.owed"].map((k) =>
        h("th", {scope: "col", text: t(k)})))),
    h("tbody", {}, rows.map((c) => h("tr", {},
      h("td", {}, h("a", {href: "#/case/" + encodeURIComponent(c.case_ref),
                          text: c.case_ref})),
      h("td", {text: c.state || (c.error ? c.error.reason : "")}),
      h("td", {text: c.state ? nextStep(c) : (c.error ? c.error.message : "")}),
      h("td", {}, owedList(c.owed)))))));
}

export async function caseTimeline(main, ref, me) {
  fill(main, heading(t("case.title", ref)));
  let c;
  try {
    c = await api("GET", `/cases/${encodeURIComponent(ref)}/timeline`);
  } catch (err) {
    main.append(failure(err));
    return;
  }
  main.append(
    h("p", {id: "case-state"}, t("case.state"), " ",
      h("strong", {text: c.state})),
    h("p", {id: "case-next"}, t("case.next"), " ", nextStep(c)),
    h("h2", {text: t("case.owed_title")}), owedList(c.owed),
    h("h2", {text: t("case.timeline")}),
    h("ol", {id: "timeline", class: "timeline"}, (c.timeline || []).map((s) =>
      h("li", {},
        h("a", {href: "#/message/" + s.message_id, text: s.type}), " ",
        t("message.from_to", s.sender_org, s.recipient_org), " · ",
        when(s.time), s.outcome ? " · " + s.outcome : "",
        s.payload ? h("details", {}, h("summary", {text: t("case.payload")}),
                      fields(s.payload)) : null))));
  if (me.role !== "auditor") {
    // Pre-filled from the case: the other party, and the consent that
    // covers them when this organisation holds it.
    const q = new URLSearchParams({case: ref});
    if (c.counterpart) q.set("to", c.counterpart);
    if (c.counterpart_node) q.set("node", c.counterpart_node);
    if (c.consent_ref) q.set("consent", c.consent_ref);
    main.append(h("p", {}, h("a", {class: "button", id: "compose-in-case",
                                   href: "#/compose?" + q,
                                   text: t("case.compose")})));
  }
}
