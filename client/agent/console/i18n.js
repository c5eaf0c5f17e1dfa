// The console's languages: every string comes from a message catalogue
// (i18n/LANG.json), one per language with the same keys (a test checks).
// Arabic is laid out right to left. Times are shown in the browser's time
// zone, with the zone named.
export const LANGUAGES = {en: "English", fr: "Français", ar: "العربية"};
const RTL = new Set(["ar"]);

let lang = "en";
let messages = {};

export async function setLanguage(code) {
  if (!(code in LANGUAGES)) code = "en";
  const res = await fetch(`i18n/${code}.json`, {credentials: "same-origin"});
  messages = await res.json();
  lang = code;
  document.documentElement.lang = code;
  document.documentElement.dir = RTL.has(code) ? "rtl" : "ltr";
}

export function language() {
  return lang;
}

// The message for `key`, with {0}, {1}... replaced by `args`; the key
// itself when the catalogue lacks it (a test fails on that first).
export function t(key, ...args) {
  const m = messages[key] ?? key;
  return m.replace(/\{(\d+)\}/g, (_, i) => String(args[Number(i)] ?? ""));
}

// Whether the catalogue has `key` (for texts chosen by a code the node
// sends, such as a reason token or a case state).
export function has(key) {
  return key in messages;
}

// What an API error says, in the user's language where the catalogue
// knows its reason (the case rules); otherwise the node's own English
// text. `translated` tells which.
export function reasonText(err) {
  const key = "reason." + (err.reason || "");
  const translated = lang !== "en" && key in messages;
  return {text: translated ? t(key) : (err.message || String(err)),
          translated};
}

// An RFC 3339 time in the user's zone, e.g. "3 Dec 2026, 14:07 GMT+1".
export function when(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(lang, {
    year: "numeric",
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    timeZoneName: "short",
  }).format(d);
}

export function zone() {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}
