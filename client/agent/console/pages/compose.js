// Compose any message type: the form comes from the type's JSON Schema,
// pre-filled from the case (reference, recipient, consent, the message
// answered). The node's refusal is shown next to the field it concerns.
import {api} from "../api.js";
import {h, fill} from "../dom.js";
import {t} from "../i18n.js";
import {schemaForm, showFieldError} from "../form.js";
import {failure, heading} from "../ui.js";

export async function compose(main, params, types) {
  let orgs = [];
  try {
    orgs = await api("GET", "/organisations");
  } catch (err) {
    // Offline keys: the recipient is typed.
  }
  const type = h("select", {id: "compose-type", required: true},
                 h("option", {value: "", text: t("form.choose")}),
                 types.map((ty) => h("option", {value: ty.type, text: ty.type,
                                               selected:
                                                   ty.type ===
                                                   params.get("type")})));
  const caseRef = h("input", {id: "compose-case", required: true,
                              value: params.get("case") || ""});
  const to = orgs.length ?
      h("select", {id: "compose-to", required: true},
        h("option", {value: "", text: t("form.choose")}),
        orgs.map((o) => h("option", {value: o.id,
                                     text: `${o.id} (${o.country || ""})`,
                                     selected: o.id === params.get("to")}))) :
      h("input", {id: "compose-to", required: true,
                  value: params.get("to") || ""});
  // Offline keys, no directory: the recipient's node is given too.
  const node = orgs.length ? null :
      h("input", {id: "compose-node", value: params.get("node") || ""});
  const consent = h("input", {id: "compose-consent",
                              value: params.get("consent") || ""});
  const outcome = h("select", {id: "compose-outcome"});
  const payloadBox = h("div", {id: "compose-payload"});
  const out = h("div", {id: "compose-result", "aria-live": "polite"});
  let form = null;
  const field = (id, key, input, path) =>
    h("div", {class: "field", "data-path": path},
      h("label", {for: id, text: t(key)}), input,
      h("p", {class: "field-error", "aria-live": "polite"}));
  const pick = () => {
    const ty = types.find((x) => x.type === type.value);
    fill(payloadBox);
    fill(outcome, h("option", {value: "", text: t("compose.no_outcome")}));
    form = null;
    if (!ty) return;
    for (const o of ty.outcomes || []) {
      outcome.append(h("option", {value: o, text: o}));
    }
    // The outcome is taken from the payload where it says it (a consent's
    // grant, a referral acknowledgement's acceptance); the node says so
    // next to this field when it cannot be.
    payloadBox.append(h("p", {class: "hint",
                              text: ty.personal_data ?
                                  t("compose.personal") :
                                  t("compose.no_personal")}));
    form = schemaForm(ty.payload_schema, "payload");
    payloadBox.append(form.element);
  };
  type.addEventListener("change", pick);
  const send = h("form", {id: "compose"},
                 field("compose-type", "compose.type", type, "type"),
                 field("compose-case", "compose.case", caseRef, "case_ref"),
                 field("compose-to", "compose.to", to, "recipient_org"),
                 node ? field("compose-node", "compose.node", node,
                              "recipient_node") : null,
                 field("compose-consent", "compose.consent", consent,
                       "consent_ref"),
                 field("compose-outcome", "compose.outcome", outcome,
                       "outcome"),
                 payloadBox,
                 h("button", {type: "submit", id: "compose-send",
                              text: t("compose.send")}),
                 out);
  send.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    fill(out);
    if (!form) return;
    const body = {type: type.value, case_ref: caseRef.value,
                  recipient_org: to.value, payload: form.read()};
    if (consent.value) body.consent_ref = consent.value;
    if (node && node.value) body.recipient_node = node.value;
    if (outcome.value) body.outcome = outcome.value;
    if (params.get("reply")) body.in_reply_to = params.get("reply");
    try {
      const r = await api("POST", "/messages", body);
      fill(out, h("p", {class: "ok", id: "compose-sent"},
                  t("compose.sent", r.message_id), " ",
                  h("a", {href: "#/message/" + r.message_id,
                          text: t("compose.open")})));
    } catch (err) {
      showFieldError(send, err);
      fill(out, failure(err));
    }
  });
  fill(main, heading(t("compose.title")), send);
  pick();
}
