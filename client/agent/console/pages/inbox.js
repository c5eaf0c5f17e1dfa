// The inbox and outbox: unread first, filtered by box, case and type,
// listed without consuming (GET /api/v1/messages).
import {api} from "../api.js";
import {h, fill} from "../dom.js";
import {t, when} from "../i18n.js";
import {failure, heading} from "../ui.js";

export async function inbox(main, params, types) {
  const box = params.get("box") || "inbox";
  const sel = h("select", {id: "filter-box", name: "box"},
                ["inbox", "outbox", "all"].map((b) =>
                    h("option", {value: b, text: t("box." + b),
                                 selected: b === box})));
  const caseRef = h("input", {id: "filter-case", name: "case",
                              value: params.get("case") || ""});
  const type = h("select", {id: "filter-type", name: "type"},
                 h("option", {value: "", text: t("filter.any_type")}),
                 types.map((ty) => h("option", {value: ty.type, text: ty.type,
                                               selected:
                                                   ty.type ===
                                                   params.get("type")})));
  const unread = h("input", {id: "filter-unread", type: "checkbox",
                             checked: params.get("unread") === "true"});
  const filters = h("form", {id: "filters", class: "filters"},
                    h("label", {for: "filter-box", text: t("filter.box")}), sel,
                    h("label", {for: "filter-case", text: t("filter.case")}),
                    caseRef,
                    h("label", {for: "filter-type", text: t("filter.type")}),
                    type, unread,
                    h("label", {for: "filter-unread",
                                text: t("filter.unread")}),
                    h("button", {type: "submit", text: t("filter.apply")}));
  filters.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const q = new URLSearchParams({box: sel.value});
    if (caseRef.value) q.set("case", caseRef.value);
    if (type.value) q.set("type", type.value);
    if (unread.checked) q.set("unread", "true");
    location.hash = "#/inbox?" + q;
  });
  const list = h("div", {id: "messages"});
  fill(main, heading(t("inbox.title")), filters, list);
  const q = new URLSearchParams({box});
  if (params.get("case")) q.set("case", params.get("case"));
  if (params.get("type")) q.set("type", params.get("type"));
  if (params.get("unread") === "true") q.set("unread", "true");
  try {
    const rows = await api("GET", "/messages?" + q);
    if (rows.length === 0) {
      fill(list, h("p", {text: t("inbox.empty")}));
      return;
    }
    fill(list, h("table", {class: "list"},
      h("caption", {text: t("inbox.caption", rows.length)}),
      h("thead", {}, h("tr", {},
        ["inbox.col.type", "inbox.col.case", "inbox.col.from", "inbox.col.to",
         "inbox.col.created", "inbox.col.state"].map((k) =>
            h("th", {scope: "col", text: t(k)})))),
      h("tbody", {}, rows.map((m) => h("tr", {class: m.read ? "" : "unread"},
        h("td", {}, h("a", {href: "#/message/" + m.message_id,
                            class: "msg-link", text: m.type})),
        h("td", {text: m.case_ref}),
        h("td", {text: m.sender_org}),
        h("td", {text: m.recipient_org}),
        h("td", {text: when(m.created)}),
        h("td", {text: m.refused ? t("state.refused")
                                 : m.read ? t("state.read")
                                          : t("state.unread")}))))));
  } catch (err) {
    fill(list, failure(err));
  }
}
