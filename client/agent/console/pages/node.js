// The coordinator's page (GET /api/v1/node): what needs attention first,
// as warnings in the user's language; then every peer link (reachable,
// backlog, circuit state, last success), the node's overdue deadlines with
// their escalations and those coming up, and certificate, key and disk
// figures.
import {api} from "../api.js";
import {h, fill} from "../dom.js";
import {t, when} from "../i18n.js";
import {failure, heading} from "../ui.js";

function bytes(n) {
  if (n >= 1 << 30) return t("unit.gib", (n / (1 << 30)).toFixed(1));
  if (n >= 1 << 20) return t("unit.mib", (n / (1 << 20)).toFixed(1));
  return t("unit.kib", Math.ceil(n / 1024));
}

// One warning, from its code and figures.
function warning(w) {
  const args = {
    TLS_CERT_EXPIRES: [w.days, when(w.at_unix_ms)],
    TLS_CERT_EXPIRED: [when(w.since_unix_ms)],
    NODE_KEY_EXPIRES: [w.days, when(w.at_unix_ms)],
    NODE_KEY_EXPIRED: [when(w.since_unix_ms)],
    ORG_SIGN_KEY_EXPIRES: [w.days, when(w.at_unix_ms)],
    ORG_SIGN_KEY_EXPIRED: [w.organisation || ""],
    ORG_ENC_KEY_EXPIRES: [w.days, when(w.at_unix_ms)],
    ORG_ENC_KEY_EXPIRED: [w.organisation || ""],
    DISK_LOW: [bytes(w.free_bytes || 0), bytes(w.min_free_bytes || 0)],
    DEADLINES_OVERDUE: [w.count],
    PEER_FORK: [w.peer, w.count],
    PEER_BREAKER_OPEN: [w.peer, w.queued, w.error || ""],
    PEER_UNREACHABLE: [w.peer, w.failures, w.queued, w.error || ""],
    PEER_BACKLOG_WAITING: [w.peer, w.queued, when(w.since_unix_ms)],
    RELAY_DISABLED: [],
    DIRECTORY_EXPIRES: [w.days, when(w.at_unix_ms), when(w.grace_ends_unix_ms)],
    DIRECTORY_IN_GRACE: [when(w.since_unix_ms), when(w.grace_ends_unix_ms)],
    DIRECTORY_LAPSED: [when(w.since_unix_ms)],
  }[w.code] || [];
  return h("li", {class: w.severity === "error" ? "bad" : "warn",
                  "data-code": w.code},
           h("span", {class: "badge",
                      text: t(w.severity === "error" ? "node.sev_error"
                                                     : "node.sev_warning")}),
           " ", t("warn." + w.code, ...args));
}

function peerRow(p) {
  const state = p.breaker === "open" ? "bad" : p.reachable ? "ok" : "warn";
  return h("tr", {"data-peer": p.node},
    h("th", {scope: "row", text: p.node}),
    h("td", {class: state},
      t(p.reachable ? "node.reachable" : "node.unreachable")),
    h("td", {text: t("node.breaker_" + (p.breaker || "closed").replace("-", "_"))}),
    h("td", {text: t("node.backlog", p.outbound_queued, bytes(p.outbound_bytes),
                      p.notices_queued)}),
    h("td", {text: p.last_success_unix_ms ? when(p.last_success_unix_ms)
                                          : t("node.never")}),
    h("td", {text: p.last_error || ""}),
    h("td", {text: t("node.witnessed", p.witnessed_tree_size, p.forks)}));
}

// The node's deadlines: overdue ones with when they were escalated, or
// those coming up.
function deadlines(id, list, none, escalated) {
  if (list.length === 0) return h("p", {id, text: t(none)});
  const cols = ["cases.col.case", "node.col.kind", "node.col.owed",
                "node.col.due"];
  if (escalated) cols.push("node.col.escalated");
  cols.push("cases.col.state");
  return h("table", {class: "list", id},
    h("thead", {}, h("tr", {}, cols.map((k) =>
        h("th", {scope: "col", text: t(k)})))),
    h("tbody", {}, list.map((o) => h("tr", {class: escalated ? "overdue" : ""},
      h("td", {}, h("a", {href: "#/case/" + encodeURIComponent(o.case_ref),
                          text: o.case_ref})),
      h("td", {text: o.kind}),
      h("td", {text: t("node.owed", o.owed_by, o.owed_to)}),
      h("td", {text: when(o.due)}),
      escalated ? h("td", {text: when(o.escalated_unix_ms)}) : null,
      h("td", {text: o.state})))));
}

export async function node(main) {
  fill(main, heading(t("node.title")));
  let s;
  try {
    s = await api("GET", "/node");
  } catch (err) {
    main.append(failure(err));
    return;
  }
  main.querySelector("#page-title").textContent = t("node.title_of", s.node_id);
  main.append(
    h("h2", {text: t("node.attention")}),
    s.warnings.length === 0
        ? h("p", {id: "warnings", class: "ok", text: t("node.all_well")})
        : h("ul", {id: "warnings", class: "evidence"}, s.warnings.map(warning)),
    h("h2", {text: t("node.peers")}),
    s.peers.length === 0
        ? h("p", {text: t("node.no_peers")})
        : h("table", {class: "list", id: "peers"},
            h("thead", {}, h("tr", {}, ["node.col.peer", "node.col.reach",
                                        "node.col.breaker", "node.col.backlog",
                                        "node.col.last", "node.col.error",
                                        "node.col.witness"].map((k) =>
                h("th", {scope: "col", text: t(k)})))),
            h("tbody", {}, s.peers.map(peerRow))),
    h("h2", {text: t("node.overdue")}),
    s.overdue_error
        ? h("p", {class: "error", text: s.overdue_error.message})
        : deadlines("overdue", s.overdue, "node.none_overdue", true),
    h("h2", {text: t("node.upcoming", s.upcoming_days ?? 7)}),
    s.overdue_error ? null
        : deadlines("upcoming", s.upcoming || [], "node.none_upcoming", false),
    h("p", {id: "escalated", text: t("node.escalated", s.escalated_since_start ?? 0)}),
    h("h2", {text: t("node.facts")}),
    h("dl", {class: "fields", id: "facts"},
      h("dt", {text: t("node.tls_cert")}),
      h("dd", {text: s.tls_cert_not_after_unix_ms
                         ? when(s.tls_cert_not_after_unix_ms) : t("node.none")}),
      h("dt", {text: t("node.node_key")}),
      h("dd", {text: s.node_key_valid_until_unix_ms
                         ? when(s.node_key_valid_until_unix_ms)
                         : t("node.no_end")}),
      h("dt", {text: t("node.directory")}),
      h("dd", {text: String(s.directory_serial)}),
      h("dt", {text: t("node.disk")}),
      h("dd", {text: t("node.disk_free", bytes(s.disk.free_bytes),
                        bytes(s.disk.min_free_bytes))}),
      h("dt", {text: t("node.queues")}),
      h("dd", {}, h("ul", {}, s.queues.map((q) =>
          h("li", {text: t("node.queue", q.organisation, q.queued,
                            bytes(q.bytes))}))))));
}
