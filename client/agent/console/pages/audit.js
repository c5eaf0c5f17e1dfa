// The auditor's page (GET /api/v1/audit/trail): a case's or a period's
// trail across every node in the agent's audit scope, merged in time order.
// The agent has verified each node's signed tree head, each entry's
// inclusion proof and that each head extends the one it saw before; the
// page shows each result as verified or failed, the heads' freshness, fork
// alarms, a flow map of messages between nodes, and one bundle per node to
// download and verify offline. Metadata only: never a payload.
import {api} from "../api.js";
import {h, fill, svg as s} from "../dom.js";
import {t, when} from "../i18n.js";
import {failure, heading} from "../ui.js";

// Nodes on a circle, one arrow per link with its count; a link within a
// node is a loop. Every label is text.
export function flowMap(flows, nodes) {
  const names = [...new Set([...nodes, ...flows.flatMap((f) => [f.from, f.to])])];
  const size = 360, r = 130, c = size / 2;
  const at = new Map(names.map((n, i) => {
    const a = (2 * Math.PI * i) / Math.max(names.length, 1) - Math.PI / 2;
    return [n, [c + r * Math.cos(a), c + r * Math.sin(a)]];
  }));
  const svg = s("svg", {viewBox: `0 0 ${size} ${size}`, width: size,
                        height: size, role: "img", id: "flow-map",
                        "aria-labelledby": "flow-map-title"});
  svg.append(s("title", {id: "flow-map-title"}, t("audit.map_title")));
  const defs = s("defs");
  const marker = s("marker", {id: "arrow", viewBox: "0 0 10 10", refX: 10,
                              refY: 5, markerWidth: 8, markerHeight: 8,
                              orient: "auto-start-reverse"});
  marker.append(s("path", {d: "M 0 0 L 10 5 L 0 10 z", class: "flow-head"}));
  defs.append(marker);
  svg.append(defs);
  for (const f of flows) {
    const [x1, y1] = at.get(f.from);
    const [x2, y2] = at.get(f.to);
    const g = s("g", {class: "flow", "data-from": f.from, "data-to": f.to});
    if (f.from === f.to) {
      g.append(s("circle", {cx: x1, cy: y1 - 34, r: 16, class: "flow-line",
                            fill: "none"}));
      g.append(s("text", {x: x1, y: y1 - 56, "text-anchor": "middle"},
                 f.messages));
    } else {
      // Stop short of the circles; offset both ways so A->B and B->A part.
      const dx = x2 - x1, dy = y2 - y1, len = Math.hypot(dx, dy) || 1;
      const ux = dx / len, uy = dy / len, ox = -uy * 6, oy = ux * 6;
      g.append(s("line", {x1: x1 + ux * 26 + ox, y1: y1 + uy * 26 + oy,
                          x2: x2 - ux * 26 + ox, y2: y2 - uy * 26 + oy,
                          class: "flow-line", "marker-end": "url(#arrow)"}));
      g.append(s("text", {x: (x1 + x2) / 2 + ox * 3, y: (y1 + y2) / 2 + oy * 3,
                          "text-anchor": "middle"}, f.messages));
    }
    svg.append(g);
  }
  for (const [n, [x, y]] of at) {
    const g = s("g", {class: "flow-node", "data-node": n});
    g.append(s("circle", {cx: x, cy: y, r: 24}));
    g.append(s("text", {x, y: y + 5, "text-anchor": "middle"}, n.toUpperCase()));
    svg.append(g);
  }
  return svg;
}

function nodeRow(n, q) {
  const cls = n.state === "verified" ? "ok" : "bad";
  const bundle = new URLSearchParams(q);
  bundle.set("node", n.node);
  return h("tr", {"data-node": n.node},
    h("th", {scope: "row", text: n.node}),
    h("td", {class: cls}, h("strong", {text: t("audit.state_" + n.state)}),
      n.message ? h("div", {class: "hint", text: n.message}) : null),
    h("td", {text: n.tree_size ?? ""}),
    h("td", {class: n.stale ? "bad" : ""},
      n.signed_unix_ms ? when(n.signed_unix_ms) : "",
      n.stale ? h("strong", {text: " " + t("audit.stale")}) : null),
    h("td", {text: n.entries ?? ""}),
    h("td", {}, n.state === "verified"
        ? h("a", {href: "/api/v1/audit/bundle?" + bundle, download: "",
                  class: "bundle", text: t("audit.bundle", n.node)})
        : null));
}

function entryRow(e) {
  return h("tr", {class: e.proof === "verified" ? "" : "failed"},
    h("td", {text: when(e.time_unix_ms)}),
    h("td", {text: e.node}),
    h("td", {text: e.kind}),
    h("td", {text: e.type || ""}),
    h("td", {}, e.message_id ? h("code", {title: e.message_id,
                                          text: e.message_id.slice(0, 8)})
                             : ""),
    h("td", {text: e.sender ? t("message.from_to", e.sender, e.recipient) : ""}),
    h("td", {text: e.peer_node || ""}),
    h("td", {class: e.proof === "verified" ? "ok" : "bad"},
      h("strong", {text: t("audit.proof_" + e.proof)})));
}

export async function audit(main, params) {
  fill(main, heading(t("audit.title")));
  const caseRef = h("input", {id: "audit-case", name: "case",
                              value: params.get("case") || ""});
  const from = h("input", {id: "audit-from", type: "date", name: "from",
                           value: params.get("from") || ""});
  const to = h("input", {id: "audit-to", type: "date", name: "to",
                         value: params.get("to") || ""});
  const form = h("form", {id: "audit-query", class: "filters"},
    h("label", {for: "audit-case", text: t("audit.case")}), caseRef,
    h("label", {for: "audit-from", text: t("audit.from")}), from,
    h("label", {for: "audit-to", text: t("audit.to")}), to,
    h("button", {type: "submit", text: t("audit.show")}));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const q = new URLSearchParams();
    if (caseRef.value) q.set("case", caseRef.value.trim());
    if (from.value) q.set("from", from.value);
    if (to.value) q.set("to", to.value);
    location.hash = "#/audit?" + q;
  });
  main.append(form, h("p", {class: "hint", text: t("audit.hint")}));
  const q = {};
  for (const k of ["case", "from", "to"]) {
    if (params.get(k)) q[k] = params.get(k);
  }
  if (Object.keys(q).length === 0) return;
  let tr;
  try {
    tr = await api("GET", "/audit/trail?" + new URLSearchParams(q));
  } catch (err) {
    main.append(failure(err));
    return;
  }
  main.append(tr.verified
      ? h("p", {id: "audit-verdict", class: "ok verdict",
                text: t("audit.all_verified", tr.entries.length,
                        tr.nodes.length)})
      : h("p", {id: "audit-verdict", class: "error verdict", role: "alert",
                text: t("audit.not_verified")}));
  main.append(
    h("h2", {text: t("audit.nodes")}),
    h("table", {class: "list", id: "audit-nodes"},
      h("thead", {}, h("tr", {}, ["audit.col.node", "audit.col.state",
                                  "audit.col.size", "audit.col.signed",
                                  "audit.col.entries", "audit.col.bundle"]
          .map((k) => h("th", {scope: "col", text: t(k)})))),
      h("tbody", {}, tr.nodes.map((n) => nodeRow(n, q)))));
  if (tr.alarms.length > 0) {
    main.append(h("h2", {text: t("audit.alarms")}),
      h("ul", {id: "audit-alarms", class: "evidence"}, tr.alarms.map((a) =>
        h("li", {class: "bad"}, h("span", {class: "badge", text: t("audit.fork")}),
          " ", t("audit.alarm", a.node, a.peer_node, when(a.time_unix_ms)),
          h("div", {class: "hint", text: a.detail})))));
  }
  main.append(h("h2", {text: t("audit.map")}),
    h("figure", {class: "map"}, flowMap(tr.flows, tr.nodes.map((n) => n.node)),
      h("figcaption", {}, h("ul", {id: "flows"}, tr.flows.map((f) =>
        h("li", {text: f.from === f.to
                           ? t("audit.flow_within", f.from, f.messages)
                           : t("audit.flow", f.from, f.to, f.messages)}))))));
  main.append(h("h2", {text: t("audit.trail")}),
    tr.entries.length === 0
        ? h("p", {text: t("audit.empty")})
        : h("table", {class: "list", id: "audit-entries"},
            h("thead", {}, h("tr", {}, ["audit.col.time", "audit.col.node",
                                        "audit.col.kind", "audit.col.type",
                                        "audit.col.message", "audit.col.orgs",
                                        "audit.col.peer", "audit.col.proof"]
                .map((k) => h("th", {scope: "col", text: t(k)})))),
            h("tbody", {}, tr.entries.map(entryRow))));
}
