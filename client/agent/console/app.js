// The console: signs the user in, then routes #/inbox, #/message/ID,
// #/compose, #/cases, #/case/REF, #/node (coordinators), #/stats and
// #/audit (auditors and coordinators) to their pages. Every page names the
// signed-in user, the organisation and the node, and uses only the agent's
// JSON API. The agent's event stream (no personal data) announces new
// messages, refusals and status changes, and the inbox follows it.
import {api, setCsrf} from "./api.js";
import {h, fill} from "./dom.js";
import {LANGUAGES, language, setLanguage, t, zone} from "./i18n.js";
import {failure} from "./ui.js";
import {signIn} from "./pages/signin.js";
import {inbox} from "./pages/inbox.js";
import {message} from "./pages/message.js";
import {compose} from "./pages/compose.js";
import {cases, caseTimeline} from "./pages/cases.js";
import {node} from "./pages/node.js";
import {audit} from "./pages/audit.js";
import {stats} from "./pages/stats.js";

const main = document.getElementById("main");
let me = null;
let types = [];
let events = null;
let renders = 0;

// Follows GET /api/v1/events while signed in: each event is announced in
// the status line, and an open list is read again.
function follow() {
  if (events) events.close();
  events = new EventSource("/api/v1/events", {withCredentials: true});
  for (const kind of ["message", "refused", "status"]) {
    events.addEventListener(kind, (ev) => {
      let d = {};
      try {
        d = JSON.parse(ev.data);
      } catch (e) {
        return;
      }
      document.getElementById("foot").textContent =
          t("event." + kind, d.type || "", d.case_ref || "", d.state || "");
      const path = location.hash.slice(1).split("?")[0];
      if (path === "" || path === "/inbox") render();
    });
  }
}

function savedLanguage(user) {
  return localStorage.getItem("trm.lang." + user) ||
         (navigator.language || "en").slice(0, 2);
}

function header() {
  const lang = h("select", {id: "language"},
                 Object.entries(LANGUAGES).map(([code, name]) =>
                     h("option", {value: code, text: name, lang: code,
                                  selected: code === language()})));
  lang.addEventListener("change", async () => {
    if (me) localStorage.setItem("trm.lang." + me.user, lang.value);
    await setLanguage(lang.value);
    await render();
  });
  const out = h("button", {type: "button", id: "signout",
                           text: t("nav.signout")});
  out.addEventListener("click", async () => {
    try {
      await api("DELETE", "/sessions");
    } catch (err) {
      // Signed out either way: the page forgets the session.
    }
    me = null;
    setCsrf("");
    if (events) events.close();
    events = null;
    await boot();
  });
  fill(document.getElementById("top"),
       h("span", {class: "brand", text: t("app.name")}),
       h("span", {id: "who"}, t("app.who", me.user, me.role, me.organisation,
                                me.node)),
       h("span", {class: "zone", text: t("app.zone", zone())}),
       h("label", {for: "language", text: t("app.language")}), lang, out);
  const links = [["#/inbox", "nav.inbox"], ["#/inbox?box=outbox", "nav.outbox"],
                 ["#/cases", "nav.cases"]];
  if (me.role !== "auditor") links.push(["#/compose", "nav.compose"]);
  if (me.role === "coordinator") links.push(["#/node", "nav.node"]);
  if (me.role !== "caseworker") {
    links.push(["#/stats", "nav.stats"], ["#/audit", "nav.audit"]);
  }
  fill(document.getElementById("nav"),
       h("ul", {}, links.map(([href, key]) =>
           h("li", {}, h("a", {href, text: t(key)})))));
  document.getElementById("nav").setAttribute("aria-label", t("nav.label"));
  document.getElementById("skip").textContent = t("app.skip");
  document.title = t("app.name");
}

async function render() {
  header();
  const [path, query] = (location.hash.slice(1) || "/inbox").split("?");
  const params = new URLSearchParams(query || "");
  const parts = path.split("/").filter((p) => p);
  try {
    if (parts[0] === "message" && parts[1]) {
      await message(main, decodeURIComponent(parts[1]), me);
    } else if (parts[0] === "compose") {
      await compose(main, params, types);
    } else if (parts[0] === "cases") {
      await cases(main);
    } else if (parts[0] === "node") {
      await node(main);
    } else if (parts[0] === "stats") {
      await stats(main, params);
    } else if (parts[0] === "audit") {
      await audit(main, params);
    } else if (parts[0] === "case" && parts[1]) {
      await caseTimeline(main, decodeURIComponent(parts[1]), me);
    } else {
      await inbox(main, params, types);
    }
  } catch (err) {
    fill(main, failure(err));
    if (err.status === 401) await boot();
  }
  const title = document.getElementById("page-title");
  if (title) title.focus();
  // Which route the page shows, once it is whole (tests wait for it).
  main.dataset.route = location.hash;
  main.dataset.rendered = String(++renders);
}

async function boot() {
  try {
    me = await api("GET", "/me");
  } catch (err) {
    me = null;
  }
  if (!me) {
    await setLanguage(language() === "en" ? savedLanguage("") : language());
    fill(document.getElementById("top"),
         h("span", {class: "brand", text: t("app.name")}));
    fill(document.getElementById("nav"));
    document.getElementById("skip").textContent = t("app.skip");
    signIn(main, boot);
    return;
  }
  setCsrf(me.csrf_token);
  await setLanguage(savedLanguage(me.user));
  try {
    types = await api("GET", "/types");
  } catch (err) {
    types = [];
  }
  follow();
  await render();
}

window.addEventListener("hashchange", () => {
  if (me) render();
});
boot();
