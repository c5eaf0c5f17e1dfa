"""What the console's browser tests share (console_check.py,
console_federation_check.py): checks that count failures, a headless
Chromium (Debian's chromium and chromium-driver, python3-selenium) on one
agent's console, waits for the event itself, and the page-wide checks:
labels on every control and measured WCAG 2.1 contrast.
"""
import json

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

failures = []


def ok(what, cond, detail=""):
    print(("ok   " if cond else "FAIL ") + what +
          (": " + str(detail) if detail and not cond else ""))
    if not cond:
        failures.append(what)
    return cond


def finish(done):
    """Exits 1 naming what failed, else prints `done`."""
    import sys
    if failures:
        print("FAILED: " + "; ".join(failures))
        sys.exit(1)
    print(done)


# Every visible element with its own text: the contrast of its colour on
# the first opaque background behind it, by WCAG 2.1's relative luminance.
CONTRAST_JS = """
function rgb(s) {
  const m = s.match(/rgba?\\(([^)]+)\\)/);
  if (!m) return null;
  const p = m[1].split(',').map(x => parseFloat(x));
  return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1};
}
function lum(c) {
  const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92
                                                 : Math.pow((v + 0.055) / 1.055, 2.4); };
  return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
}
function background(e) {
  for (; e; e = e.parentElement) {
    const c = rgb(getComputedStyle(e).backgroundColor);
    if (c && c.a > 0.5) return c;
  }
  return {r: 255, g: 255, b: 255, a: 1};
}
const bad = [];
let checked = 0;
for (const e of document.querySelectorAll('body *')) {
  if (e.closest('svg') && e.tagName !== 'text') continue;
  const own = [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
  if (!own) continue;
  const r = e.getBoundingClientRect();
  if (r.width === 0 || r.height === 0) continue;
  const st = getComputedStyle(e);
  if (st.visibility === 'hidden') continue;
  const fg = rgb(e.tagName === 'text' ? st.fill : st.color);
  if (!fg) continue;
  const bg = e.tagName === 'text' && e.closest('.flow-node')
      ? rgb(getComputedStyle(e.closest('.flow-node').querySelector('circle')).fill)
      : background(e);
  const l1 = lum(fg), l2 = lum(bg);
  const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
  const size = parseFloat(st.fontSize), weight = parseInt(st.fontWeight, 10);
  const large = size >= 24 || (size >= 18.66 && weight >= 700);
  checked++;
  if (ratio < (large ? 3 : 4.5)) {
    bad.push(`${e.tagName}.${e.className} "${e.textContent.trim().slice(0, 30)}"` +
             ` ${ratio.toFixed(2)}:1`);
  }
}
return [checked, bad];
"""


class Console:
    """A headless Chromium on the console at BASE (https://HOST:PORT)."""

    def __init__(self, base, polls, shots, insecure_tls=False):
        self.base = base
        self.timeout = max(10, int(polls) * 0.1)
        self.shots = shots
        opts = webdriver.ChromeOptions()
        opts.binary_location = "/usr/bin/chromium"
        opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        if insecure_tls:
            # The agents' test certificates are self-signed.
            opts.set_capability("acceptInsecureCerts", True)
        for a in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                  "--window-size=1280,1000", "--lang=en-GB"]:
            opts.add_argument(a)
        self.drv = webdriver.Chrome(service=Service("/usr/bin/chromedriver"),
                                    options=opts)
        self.drv.set_script_timeout(30)

    def quit(self):
        self.drv.quit()

    def wait(self, what, probe, timeout=None):
        from selenium.webdriver.support.ui import WebDriverWait
        try:
            return WebDriverWait(self.drv, timeout or self.timeout).until(
                lambda d: probe())
        except TimeoutException:
            ok(what, False, "timed out; page: " +
               self.drv.find_element(By.TAG_NAME, "body").text[-600:] +
               "; browser log: " +
               json.dumps(self.drv.get_log("browser"))[:1500])
            return None

    def css(self, sel):
        return self.drv.find_elements(By.CSS_SELECTOR, sel)

    def text_of(self, sel):
        e = self.css(sel)
        return e[0].text if e else ""

    def shot(self, name):
        self.drv.execute_script("window.scrollTo(0, 0)")
        self.drv.save_screenshot("%s/%s.png" % (self.shots, name))

    def labelled(self):
        """The visible form controls without a label (for= its id, or
        around it): [] when every one has one."""
        return self.drv.execute_script("""
          return [...document.querySelectorAll('input, select, textarea')]
            .filter(e => e.type !== 'hidden' && e.offsetParent !== null)
            .filter(e => !(e.id && document.querySelector(`label[for="${e.id}"]`))
                         && !e.closest('label') && !e.getAttribute('aria-label'))
            .map(e => e.outerHTML.slice(0, 80));""")

    def contrast(self, page):
        """Checks the page's measured text contrast: 4.5:1, 3:1 for large
        text (WCAG 2.1 AA, 1.4.3)."""
        checked, bad = self.drv.execute_script(CONTRAST_JS)
        ok("contrast of %s meets WCAG 2.1 AA (%d texts measured)" %
           (page, checked), checked > 5 and not bad, bad[:8])

    def keyboard(self, page, most=80):
        """Tabs through the page from the skip link: every control comes
        in the order of the page, none is skipped or trapped, and each
        shows a visible focus outline (WCAG 2.1 2.4.3, 2.4.7)."""
        from selenium.webdriver.common.action_chains import ActionChains
        want = self.drv.execute_script("""
          return [...document.querySelectorAll(
              'a[href], button, input, select, textarea, summary,' +
              ' [tabindex]:not([tabindex="-1"])')]
            .filter(e => !e.disabled && e.getClientRects().length > 0 &&
                         getComputedStyle(e).visibility !== 'hidden')
            .map(e => e.id || e.outerHTML.slice(0, 60));""")
        self.drv.execute_script("document.getElementById('skip').focus()")
        # A date input takes a Tab per part (day, month, year): the same
        # control is counted once.
        seen, unseen_outline = [], []
        n = min(len(want), most)
        for _ in range(n * 4):
            at = self.drv.execute_script("""
              const e = document.activeElement;
              return e.id || e.outerHTML.slice(0, 60);""")
            if not seen or seen[-1] != at:
                seen.append(at)
                if not self.drv.execute_script("""
                    const s = getComputedStyle(document.activeElement);
                    return s.outlineStyle !== 'none' &&
                           parseFloat(s.outlineWidth) >= 2;"""):
                    unseen_outline.append(at)
            if len(seen) >= n:
                break
            ActionChains(self.drv).send_keys(Keys.TAB).perform()
        ok("keyboard: %s's %d controls come in page order" % (page, n),
           n > 3 and seen == want[:n],
           [(i, a, b) for i, (a, b) in enumerate(zip(seen, want))
            if a != b][:3])
        ok("keyboard: focus is visible on each control of " + page,
           not unseen_outline, unseen_outline[:3])

    def fetch(self, method, path, headers, body=None):
        return self.drv.execute_async_script("""
          const [method, path, headers, body, done] = arguments;
          fetch(path, {method, headers, credentials: 'same-origin',
                       body: method === 'GET' ? undefined : body})
            .then(async r => done([r.status, await r.text()]))
            .catch(e => done([0, String(e)]));""", method, path, headers,
            body)

    def go(self, route):
        """Opens the console at ROUTE (e.g. "#/cases") and waits until that
        page is whole, so that nothing of the page before it is read."""
        self.drv.execute_script(
            "const m = document.getElementById('main');"
            "if (m) m.removeAttribute('data-rendered');")
        target = self.base + "/console/" + route
        if self.drv.current_url == target:
            self.drv.refresh()  # the same address: no hashchange
        else:
            self.drv.get(target)
        self.wait("the page " + route, lambda: self.drv.execute_script(
            "const m = document.getElementById('main');"
            "return !!m && m.dataset.route === arguments[0] &&"
            " !!m.dataset.rendered;", route))

    def sign_in(self, name, password):
        self.drv.get(self.base + "/console/")
        self.wait("the sign-in page", lambda: self.css("#signin-name"))
        self.css("#signin-name")[0].clear()
        self.css("#signin-name")[0].send_keys(name)
        self.css("#signin-password")[0].send_keys(password + Keys.ENTER)

    def sign_out(self):
        self.css("#signout")[0].click()
        self.wait("the sign-in page after signing out",
                  lambda: self.css("#signin-name"))
