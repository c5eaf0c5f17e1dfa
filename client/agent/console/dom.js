// Builds DOM nodes. Data only ever goes in as text (textContent, text
// nodes) or as attributes set through the DOM: never as markup, so a
// payload that holds markup or script shows as text.
//
//   h("a", {href: "#/inbox", class: "nav"}, t("nav.inbox"))
export function h(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) {
      e.addEventListener(k.slice(2), v);
    } else if (k === "text") {
      e.textContent = String(v);
    } else {
      e.setAttribute(k, v === true ? "" : String(v));
    }
  }
  add(e, children);
  return e;
}

function add(e, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) {
      add(e, c);
    } else if (c instanceof Node) {
      e.appendChild(c);
    } else {
      e.appendChild(document.createTextNode(String(c)));
    }
  }
}

const SVG = "http://www.w3.org/2000/svg";

// An SVG element (charts and maps): attributes set through the DOM, and
// `text`, when given, as its text.
//
//   svg("rect", {x: 0, y: 10, width: 20, height: 40, class: "bar"})
export function svg(tag, attrs = {}, text) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = String(text);
  return e;
}

// Replaces the children of `e`.
export function fill(e, ...children) {
  e.replaceChildren();
  add(e, children);
  return e;
}

let ids = 0;
// A fresh element id, for labels.
export function nextId(prefix) {
  ids += 1;
  return `${prefix}-${ids}`;
}
