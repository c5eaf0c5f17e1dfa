// The coordinator's statistics page (GET /api/v1/stats): how the referral
// mechanism performs, per route and period, from the node's case metadata
// (docs/workflow.md, "Statistics"). Three charts in inline SVG (referrals
// per period by route, time to acknowledge, monitoring reports) and the
// full table. Counts below the federation's threshold are never shown: a
// period with such months says "+N months fewer than 5" beside what is
// shown, and no chart or total includes them.
import {api} from "../api.js";
import {h, fill, svg} from "../dom.js";
import {t, when} from "../i18n.js";
import {failure, heading} from "../ui.js";

const WIDTH = 640;

// "12 min" below an hour, "36 h" below three days, else "4.5 days".
function span(seconds) {
  const hours = seconds / 3600;
  if (hours < 1) return t("stats.minutes", Math.round(seconds / 60));
  return hours < 72 ? t("stats.hours", Math.round(hours * 10) / 10)
                    : t("stats.days", Math.round(hours / 2.4) / 10);
}

// A period's tick: a month as "03", with its year under the first tick and
// under each January; a quarter or a year as it is.
function tick(periods, i) {
  const p = periods[i], m = /^(\d{4})-(\d{2})$/.exec(p);
  if (!m) return [p, ""];
  return [m[2], i === 0 || m[2] === "01" ? m[1] : ""];
}

// What a figure shows: its value, and the months below the threshold.
function shown(f, k) {
  if (f.suppressed_cells && !Number(f.value)) return t("stats.fewer", k);
  if (f.suppressed_cells) {
    return t("stats.at_least", f.value, f.suppressed_cells, k);
  }
  return String(f.value);
}

function chart(id, titleKey, height, body) {
  const e = svg("svg", {id, viewBox: `0 0 ${WIDTH} ${height}`, width: WIDTH,
                        height, role: "img", "aria-labelledby": id + "-title",
                        class: "chart"});
  e.append(svg("title", {id: id + "-title"}, t(titleKey)));
  body(e);
  return e;
}

function legend(routes, k) {
  const dashed = svg("svg", {width: 14, height: 14, "aria-hidden": "true"});
  dashed.append(svg("rect", {x: 1, y: 9, width: 12, height: 4,
                             class: "suppressed"}));
  return h("ul", {class: "legend"}, routes.map((r, i) =>
      h("li", {}, h("span", {class: "swatch series-" + (i % 6)}), " " + r)),
    h("li", {}, dashed, " " + t("stats.legend_fewer", k)));
}

// Referrals per period, one bar per route; a period's months below the
// threshold are marked, never drawn as a number.
function referralsChart(c, k) {
  const periods = c.periods, series = c.series;
  if (series.length === 0) {
    return h("p", {id: "chart-referrals-none", text: t("stats.referrals_none", k)});
  }
  const height = 240, base = 200, top = 20, left = 40;
  const max = Math.max(k, ...series.flatMap((s) => s.points.map((p) => Number(p.value))));
  const slot = (WIDTH - left) / Math.max(periods.length, 1);
  const bar = Math.max(2, Math.min(24, (slot - 6) / series.length));
  const y = (v) => base - ((base - top) * v) / max;
  return chart("chart-referrals", "stats.referrals_title", height, (e) => {
    e.append(svg("line", {x1: left, y1: base, x2: WIDTH, y2: base, class: "axis"}));
    e.append(svg("text", {x: left - 4, y: y(max) + 4, "text-anchor": "end"}, max));
    e.append(svg("text", {x: left - 4, y: base + 4, "text-anchor": "end"}, 0));
    periods.forEach((p, i) => {
      const x0 = left + i * slot + 3;
      const [label, year] = tick(periods, i);
      e.append(svg("text", {x: x0 + slot / 2 - 3, y: base + 16,
                            "text-anchor": "middle", class: "tick"}, label));
      if (year) {
        e.append(svg("text", {x: x0 + slot / 2 - 3, y: base + 32,
                              "text-anchor": "middle", class: "tick"}, year));
      }
      series.forEach((s, j) => {
        const pt = s.points[i];
        const x = x0 + j * bar, v = Number(pt.value);
        const g = svg("g", {class: "point", "data-route": s.route,
                            "data-period": p});
        if (v > 0) {
          g.append(svg("rect", {x, y: y(v), width: bar - 1, height: base - y(v),
                                class: "bar series-" + (j % 6)}));
        }
        if (pt.suppressed_cells > 0) {
          // Drawn at no height: the count is not shown.
          g.append(svg("rect", {x, y: base - 4, width: bar - 1, height: 4,
                                class: "suppressed"}));
        }
        g.append(svg("title", {}, `${s.route} ${p}: ${shown(pt, k)}`));
        e.append(g);
      });
    });
  });
}

// Median and 90th percentile from referral to acknowledgement, per route.
function ackChart(rows, k) {
  if (rows.length === 0) {
    return h("p", {id: "chart-ack-none", text: t("stats.ack_none", k)});
  }
  const left = 90, row = 44, height = 20 + rows.length * row;
  const max = Math.max(...rows.map((r) => r.p90_seconds), 1);
  const w = (v) => ((WIDTH - left - 80) * v) / max;
  return chart("chart-ack", "stats.ack_title", height, (e) => {
    rows.forEach((r, i) => {
      const y = 10 + i * row;
      const g = svg("g", {class: "route", "data-route": r.route});
      g.append(svg("text", {x: left - 6, y: y + 20, "text-anchor": "end"}, r.route));
      g.append(svg("rect", {x: left, y, width: w(r.median_seconds), height: 16,
                            class: "bar series-0"}));
      g.append(svg("text", {x: left + w(r.median_seconds) + 4, y: y + 12},
                   t("stats.median", span(r.median_seconds))));
      g.append(svg("rect", {x: left, y: y + 18, width: w(r.p90_seconds),
                            height: 16, class: "bar series-1"}));
      g.append(svg("text", {x: left + w(r.p90_seconds) + 4, y: y + 30},
                   t("stats.p90", span(r.p90_seconds))));
      g.append(svg("title", {}, t("stats.ack_row", r.route, r.count,
                                  span(r.median_seconds), span(r.p90_seconds))));
      e.append(g);
    });
  });
}

// Monitoring reports received, late, and due but never sent, per route.
function monitoringChart(rows, k) {
  if (rows.length === 0) {
    return h("p", {id: "chart-monitoring-none", text: t("stats.monitoring_none", k)});
  }
  const left = 90, row = 62, height = 20 + rows.length * row;
  const max = Math.max(...rows.map((r) => Math.max(Number(r.reports),
                                                   Number(r.missing))), 1);
  const w = (v) => ((WIDTH - left - 120) * v) / max;
  const said = (v, hidden) => shown({value: v, suppressed_cells: hidden}, k);
  return chart("chart-monitoring", "stats.monitoring_title", height, (e) => {
    rows.forEach((r, i) => {
      const y = 10 + i * row;
      const g = svg("g", {class: "route", "data-route": r.route});
      g.append(svg("text", {x: left - 6, y: y + 20, "text-anchor": "end"}, r.route));
      g.append(svg("rect", {x: left, y, width: w(Number(r.reports)), height: 16,
                            class: "bar series-0"}));
      g.append(svg("text", {x: left + w(Number(r.reports)) + 4, y: y + 12},
                   t("stats.reports", said(r.reports, r.reports_suppressed))));
      g.append(svg("rect", {x: left, y: y + 18, width: w(Number(r.late)),
                            height: 16, class: "bar series-3"}));
      g.append(svg("text", {x: left + w(Number(r.late)) + 4, y: y + 30,
                            class: "late"},
                   t("stats.late", said(r.late, r.late_suppressed))));
      g.append(svg("rect", {x: left, y: y + 36, width: w(Number(r.missing)),
                            height: 16, class: "bar series-4"}));
      g.append(svg("text", {x: left + w(Number(r.missing)) + 4, y: y + 48,
                            class: "missing"},
                   t("stats.missing", said(r.missing, r.missing_suppressed))));
      e.append(g);
    });
  });
}

// Every measure for every route over the whole range.
function table(report, k) {
  const all = new Map(report.figures.filter((f) => f.period === "*")
      .map((f) => [f.measure + " " + f.route, f]));
  const routes = [...report.routes, "*"];
  return h("table", {class: "list", id: "stats-table"},
    h("caption", {text: t("stats.table_title", report.from_month, report.to_month)}),
    h("thead", {}, h("tr", {}, h("th", {scope: "col", text: t("stats.measure")}),
      routes.map((r) => h("th", {scope: "col",
                                 text: r === "*" ? t("stats.all_routes") : r})))),
    h("tbody", {}, report.measures.map((m) => h("tr", {"data-measure": m},
      h("th", {scope: "row", text: m.startsWith("refused_")
        ? t("measure.refused", m.slice(8).toUpperCase()) : t("measure." + m)}),
      routes.map((r) => {
        const f = all.get(m + " " + r);
        return h("td", {class: f && f.suppressed_cells ? "suppressed" : "",
                        text: f ? shown(f, k) : ""});
      })))));
}

export async function stats(main, params) {
  fill(main, heading(t("stats.title")));
  const from = h("input", {id: "stats-from", type: "month", name: "from",
                           value: params.get("from") || ""});
  const to = h("input", {id: "stats-to", type: "month", name: "to",
                         value: params.get("to") || ""});
  const period = h("select", {id: "stats-period", name: "period"},
    ["month", "quarter", "year"].map((p) => h("option", {
      value: p, text: t("stats.period_" + p),
      selected: (params.get("period") || "month") === p})));
  const form = h("form", {id: "stats-query", class: "filters"},
    h("label", {for: "stats-from", text: t("stats.from")}), from,
    h("label", {for: "stats-to", text: t("stats.to")}), to,
    h("label", {for: "stats-period", text: t("stats.period")}), period,
    h("button", {type: "submit", text: t("stats.show")}));
  // An auditor chooses the node, among those of its scope (filled in below
  // from the answer).
  const node = h("select", {id: "stats-node", name: "node"});
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const q = new URLSearchParams();
    for (const [k, v] of [["from", from.value], ["to", to.value],
                          ["period", period.value], ["node", node.value]]) {
      if (v) q.set(k, v);
    }
    location.hash = "#/stats?" + q;
  });
  main.append(form);
  const q = new URLSearchParams();
  for (const k of ["from", "to", "period", "node"]) {
    if (params.get(k)) q.set(k, params.get(k));
  }
  let page;
  try {
    page = await api("GET", "/stats?" + q);
  } catch (err) {
    main.append(failure(err));
    return;
  }
  const r = page.report, k = page.threshold, c = page.charts;
  if (page.nodes) {
    node.append(...page.nodes.map((n) => h("option", {
      value: n, text: n, selected: n === page.node})));
    form.insertBefore(h("label", {for: "stats-node", text: t("stats.node")}),
                      form.querySelector("button"));
    form.insertBefore(node, form.querySelector("button"));
  }
  if (!from.value) from.value = r.from_month;
  if (!to.value) to.value = r.to_month;
  main.append(
    h("p", {id: "stats-about"}, t("stats.about", r.node, r.from_month,
                                  r.to_month, when(Number(r.generated_unix_ms)))),
    h("p", {id: "stats-rule", class: "hint", text: t("stats.rule", k)}),
    h("h2", {text: t("stats.referrals_title")}),
    h("figure", {class: "chart"}, referralsChart(c.referrals, k),
      c.referrals.series.length ? legend(c.referrals.series.map((s) => s.route), k) : null),
    c.referrals.hidden.length
      ? h("p", {id: "stats-hidden", class: "hint",
                text: t("stats.hidden", k, c.referrals.hidden.join(", "))})
      : null,
    h("h2", {text: t("stats.ack_title")}), ackChart(c.ack_times, k),
    h("h2", {text: t("stats.monitoring_title")}), monitoringChart(c.monitoring, k),
    h("p", {class: "hint", text: t("stats.monitoring_note")}),
    table(r, k));
}
