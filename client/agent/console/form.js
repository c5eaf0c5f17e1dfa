// A form generated from a message type's JSON Schema (GET /api/v1/types):
// no form is written per type. Strings are text fields, booleans
// checkboxes, enums selects, times date-and-time pickers, lists of text one
// entry per line, nested messages fieldsets; required fields are marked.
//
//   const f = schemaForm(schema, "payload");
//   parent.append(f.element);  ...  const payload = f.read();
import {h, nextId} from "./dom.js";
import {reasonText, t} from "./i18n.js";

export function schemaForm(schema, path) {
  const fields = [];
  const required = new Set(schema.required || []);
  const box = h("fieldset", {class: "schema", "data-path": path},
                h("legend", {text: schema.title || path}));
  for (const [name, prop] of Object.entries(schema.properties || {})) {
    const f = field(name, prop, required.has(name), `${path}.${name}`);
    fields.push([name, f]);
    box.append(f.element);
  }
  return {
    element: box,
    read() {
      const out = {};
      for (const [name, f] of fields) {
        const v = f.read();
        if (v !== undefined) out[name] = v;
      }
      return out;
    },
  };
}

function label(id, name, required) {
  return h("label", {for: id}, name,
           required ? h("span", {class: "req", text: " *",
                                 title: t("form.required")}) : null);
}

function wrap(path, ...children) {
  return h("div", {class: "field", "data-path": path}, ...children,
           h("p", {class: "field-error", "aria-live": "polite"}));
}

function field(name, prop, required, path) {
  const id = nextId("f");
  const kinds = [].concat(prop.type || "object");
  if (prop.type === "object" && prop.properties) {
    const sub = schemaForm(prop, path);
    return {
      element: wrap(path, sub.element),
      read() {
        const v = sub.read();
        return Object.keys(v).length ? v : undefined;
      },
    };
  }
  if (prop.type === "array") {
    if (prop.items && prop.items.type === "object") {
      return objectList(name, prop, path);
    }
    const area = h("textarea", {id, name: path, rows: 3,
                                "aria-describedby": id + "-hint",
                                required: required});
    return {
      element: wrap(path, label(id, name, required), area,
                    h("p", {class: "hint", id: id + "-hint",
                            text: t("form.one_per_line")})),
      read() {
        const items = area.value.split("\n").map((s) => s.trim())
            .filter((s) => s);
        return items.length ? items : undefined;
      },
    };
  }
  if (prop.enum) {
    const sel = h("select", {id, name: path, required: required},
                  h("option", {value: "", text: t("form.choose")}),
                  prop.enum.filter((v) => !v.endsWith("_UNSPECIFIED"))
                      .map((v) => h("option", {value: v, text: v})));
    return {
      element: wrap(path, label(id, name, required), sel),
      read: () => sel.value || undefined,
    };
  }
  if (prop.type === "boolean") {
    const box = h("input", {id, name: path, type: "checkbox"});
    if (required) {
      // A required yes/no is asked, not defaulted: a select with no answer.
      const sel = h("select", {id, name: path, required: true},
                    h("option", {value: "", text: t("form.choose")}),
                    h("option", {value: "true", text: t("form.yes")}),
                    h("option", {value: "false", text: t("form.no")}));
      return {
        element: wrap(path, label(id, name, true), sel),
        read: () => (sel.value === "" ? undefined : sel.value === "true"),
      };
    }
    return {
      element: wrap(path, h("span", {class: "check"}, box,
                            label(id, name, false))),
      read: () => (box.checked ? true : undefined),
    };
  }
  if (prop.format === "date-time") {
    const input = h("input", {id, name: path, type: "datetime-local",
                              required: required});
    return {
      element: wrap(path, label(id, name, required), input),
      read() {
        if (!input.value) return undefined;
        return new Date(input.value).toISOString().replace(/\.\d+Z$/, "Z");
      },
    };
  }
  const numeric = kinds.includes("integer") || kinds.includes("number");
  const input = h("input", {id, name: path, type: numeric ? "number" : "text",
                            required: required});
  return {
    element: wrap(path, label(id, name, required), input),
    read() {
      if (input.value === "") return undefined;
      return numeric && !kinds.includes("string") ? Number(input.value)
                                                   : input.value;
    },
  };
}

function objectList(name, prop, path) {
  const rows = [];
  const list = h("div", {class: "rows"});
  const add = h("button", {type: "button", class: "secondary",
                           text: t("form.add", name)});
  add.addEventListener("click", () => {
    const f = schemaForm({...prop.items, title: `${name} ${rows.length + 1}`},
                         `${path}[${rows.length}]`);
    rows.push(f);
    list.append(f.element);
  });
  return {
    element: wrap(path, h("fieldset", {}, h("legend", {text: name}), list,
                          add)),
    read() {
      const v = rows.map((r) => r.read()).filter((o) => Object.keys(o).length);
      return v.length ? v : undefined;
    },
  };
}

// Shows `err` (an ApiError) next to the field its path names, or returns
// false when no field of `root` has that path.
export function showFieldError(root, err) {
  for (const e of root.querySelectorAll(".field-error")) e.textContent = "";
  if (!err.path) return false;
  const want = err.path.replace(/^\./, "");
  for (const f of root.querySelectorAll(".field")) {
    const p = f.getAttribute("data-path");
    if (p === want || want.startsWith(p + ".") || want.startsWith(p + "[")) {
      const out = f.querySelector(".field-error");
      out.textContent = `${err.reason}: ${reasonText(err).text}`;
      const input = f.querySelector("input, select, textarea");
      if (input) input.focus();
      return true;
    }
  }
  return false;
}
