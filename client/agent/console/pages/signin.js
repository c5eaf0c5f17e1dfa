// Sign-in with a named user of the agent (trm-agent user add
// --password-stdin): the session lives in an HttpOnly cookie.
import {api, setCsrf} from "../api.js";
import {h, fill} from "../dom.js";
import {t} from "../i18n.js";
import {failure, heading} from "../ui.js";

export function signIn(main, done) {
  const name = h("input", {id: "signin-name", name: "name",
                           autocomplete: "username", required: true});
  const pass = h("input", {id: "signin-password", name: "password",
                           type: "password", autocomplete: "current-password",
                           required: true});
  const out = h("div", {id: "signin-result", "aria-live": "polite"});
  const form = h("form", {id: "signin", class: "narrow"},
                 h("div", {class: "field"},
                   h("label", {for: "signin-name", text: t("signin.name")}),
                   name),
                 h("div", {class: "field"},
                   h("label", {for: "signin-password",
                               text: t("signin.password")}),
                   pass),
                 h("button", {type: "submit", text: t("signin.submit")}),
                 out);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const r = await api("POST", "/sessions",
                          {name: name.value, password: pass.value,
                           cookie: true});
      pass.value = "";
      setCsrf(r.csrf_token);
      done();
    } catch (err) {
      pass.value = "";
      fill(out, failure(err));
    }
  });
  fill(main, heading(t("signin.title")), h("p", {text: t("signin.intro")}),
       form);
  name.focus();
}
