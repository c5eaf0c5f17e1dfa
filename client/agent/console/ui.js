// Pieces every page uses: a failure said plainly with the API's reason,
// and a definition list of fields.
import {h} from "./dom.js";
import {reasonText, t} from "./i18n.js";

// What failed, the API's reason token and text, and what to do. The node
// explains in English; where the catalogue knows the reason (the case
// rules), the user's language says it, with the node's words beneath.
export function failure(err) {
  const said = reasonText(err);
  const own = said.translated;
  const words = err.message || String(err);
  return h("div", {class: "error", role: "alert"},
           h("strong", {text: t("error.title")}), " ",
           h("code", {text: err.reason || ""}), " ",
           h("span", {class: "error-text", text: said.text}),
           own ? h("details", {class: "node-words"},
                   h("summary", {text: t("error.node_words")}),
                   h("p", {lang: "en", dir: "ltr", text: words})) : null,
           h("p", {text: t(err.status === 401 ? "error.signin"
                                              : "error.what_to_do")}));
}

// A payload or header as nested definition lists, every value as text.
export function fields(obj) {
  const dl = h("dl", {class: "fields"});
  for (const [k, v] of Object.entries(obj || {})) {
    dl.append(h("dt", {text: k}));
    if (v !== null && typeof v === "object" && !Array.isArray(v)) {
      dl.append(h("dd", {}, fields(v)));
    } else if (Array.isArray(v)) {
      dl.append(h("dd", {}, h("ul", {}, v.map((x) => h("li", {},
          x !== null && typeof x === "object" ? fields(x) : String(x))))));
    } else {
      dl.append(h("dd", {text: String(v)}));
    }
  }
  return dl;
}

export function heading(text) {
  return h("h1", {id: "page-title", tabindex: "-1", text});
}
