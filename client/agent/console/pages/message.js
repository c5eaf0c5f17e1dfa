// One message: its typed fields, the sender, the delivery evidence with
// each signature check shown as valid or not, and reply, mark read, notes
// and refuse. An auditor sees the header and evidence, never a payload.
import {api} from "../api.js";
import {h, fill} from "../dom.js";
import {t, when} from "../i18n.js";
import {failure, fields, heading} from "../ui.js";

function verdict(check) {
  if (check.startsWith("valid") || check.startsWith("verified")) {
    return ["ok", t("evidence.valid")];
  }
  if (check.startsWith("not checked") || check.startsWith("unsigned")) {
    return ["warn", t("evidence.unchecked")];
  }
  return ["bad", t("evidence.invalid")];
}

export async function message(main, id, me) {
  fill(main, heading(t("message.title")));
  let m;
  try {
    m = await api("GET", "/messages/" + encodeURIComponent(id));
  } catch (err) {
    main.append(failure(err));
    return;
  }
  if (!m.read && m.box === "inbox" && me.role !== "auditor") {
    try {
      await api("POST", `/messages/${m.message_id}/read`, {read: true});
      m.read = true;
    } catch (err) {
      // Still shown; the list keeps it unread.
    }
  }
  const hd = m.header || {};
  main.append(
    h("p", {class: "lead"},
      h("strong", {id: "message-type", text: m.type}), " · ",
      t("message.case"), " ",
      h("a", {href: "#/case/" + encodeURIComponent(m.case_ref),
              text: m.case_ref}), " · ",
      t("message.from_to", m.sender_org, m.recipient_org), " · ",
      when(hd.created)),
  );
  if (m.status) {
    main.append(h("p", {id: "message-status"}, t("message.status"), " ",
                  h("strong", {text: m.status})));
  }
  if (m.held) {
    main.append(h("p", {id: "message-held", class: "warn"}, t("message.held"),
                  " ", h("span", {text: m.held})));
  }
  if (m.status_error) main.append(failure(m.status_error));
  const ev = h("ul", {id: "evidence", class: "evidence"});
  for (const e of m.evidence || []) {
    const [cls, word] = verdict(e.check);
    ev.append(h("li", {class: cls}, h("span", {class: "badge", text: word}),
                " ", h("strong", {text: e.step}), ": ", e.check));
  }
  main.append(h("h2", {text: t("message.evidence")}), ev);
  if (m.payload) {
    main.append(h("h2", {text: t("message.payload")}),
                h("div", {id: "payload"}, fields(m.payload)));
  } else if (m.payload_note) {
    main.append(h("p", {class: "note", text: m.payload_note}));
  }
  if (m.payload_error) main.append(failure(m.payload_error));
  if (m.refusal) {
    main.append(h("p", {id: "refusal", class: "note"},
                  t("message.refused", m.refusal.reason, m.refusal.by,
                    when(m.refusal.time)), " ", m.refusal.text));
  }
  main.append(h("h2", {text: t("message.header")}), fields(hd));
  if (me.role === "auditor") return;

  const out = h("div", {id: "action-result", "aria-live": "polite"});
  const actions = h("div", {class: "actions"});
  if (m.box === "inbox") {
    const q = new URLSearchParams({case: m.case_ref, to: m.sender_org,
                                   node: hd.sender_node || "",
                                   reply: m.message_id});
    if (hd.consent_ref) q.set("consent", hd.consent_ref);
    actions.append(h("a", {class: "button", id: "reply",
                           href: "#/compose?" + q, text: t("message.reply")}));
    // A referral is acknowledged by answering it: accepted (with a named
    // contact) or declined, signed by this organisation (REFERRAL_ACK).
    if (m.type === "REFERRAL_REQUEST") {
      const ack = new URLSearchParams(q);
      ack.set("type", "REFERRAL_ACK");
      actions.append(h("a", {class: "button", id: "answer-referral",
                             href: "#/compose?" + ack,
                             text: t("message.answer_referral")}));
    }
    const read = h("button", {type: "button", id: "mark-read",
                              text: m.read ? t("message.mark_unread")
                                           : t("message.mark_read")});
    read.addEventListener("click", async () => {
      try {
        await api("POST", `/messages/${m.message_id}/read`, {read: !m.read});
        location.hash = "#/message/" + m.message_id + "?r=" + Date.now();
      } catch (err) {
        fill(out, failure(err));
      }
    });
    actions.append(read);
  }
  main.append(h("h2", {text: t("message.actions")}), actions, out);

  const note = h("textarea", {id: "note-text", rows: 2, maxlength: 4096});
  const noteForm = h("form", {id: "note-form"},
                     h("label", {for: "note-text", text: t("message.note")}),
                     note, h("button", {type: "submit",
                                        text: t("message.add_note")}));
  noteForm.addEventListener("submit", async (ev2) => {
    ev2.preventDefault();
    try {
      await api("POST", `/messages/${m.message_id}/notes`, {text: note.value});
      location.hash = "#/message/" + m.message_id + "?r=" + Date.now();
    } catch (err) {
      fill(out, failure(err));
    }
  });
  const notes = h("ul", {id: "notes"}, (m.notes || []).map((n) =>
      h("li", {}, h("strong", {text: n.user}), " ", when(n.time), ": ",
        n.text)));
  main.append(h("h2", {text: t("message.notes")}), notes, noteForm);

  if (m.box === "inbox" && !m.refusal) {
    const reason = h("select", {id: "refuse-reason", required: true},
                     ["NOT_OURS", "WRONG_TYPE", "HEADER_PAYLOAD_MISMATCH",
                      "CANNOT_OPEN"].map((r) =>
                         h("option", {value: r, text: t("refuse." + r)})));
    const text = h("input", {id: "refuse-text", required: true,
                             maxlength: 1000});
    const refuse = h("form", {id: "refuse-form", class: "danger"},
                     h("p", {text: t("refuse.intro")}),
                     h("label", {for: "refuse-reason",
                                 text: t("refuse.reason")}), reason,
                     h("label", {for: "refuse-text", text: t("refuse.text")}),
                     text,
                     h("button", {type: "submit", text: t("refuse.submit")}));
    refuse.addEventListener("submit", async (ev3) => {
      ev3.preventDefault();
      try {
        await api("POST", `/messages/${m.message_id}/refuse`,
                  {reason: reason.value, text: text.value});
        location.hash = "#/message/" + m.message_id + "?r=" + Date.now();
      } catch (err) {
        fill(out, failure(err));
      }
    });
    main.append(h("h2", {text: t("refuse.title")}), refuse);
  }
}
