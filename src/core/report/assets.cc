// The page's CSS and JavaScript. The script reads the data element (JSON), renders long
// tables lazily (a hundred rows, then more on demand), filters every table by the search
// box, sorts by a clicked column and expands tiers to files, tests and reasons. It writes
// project strings with textContent only, never as markup.
#include "core/report/assets.h"

namespace testmap::report {

const char* const kStyle = R"CSS(
:root { --fg: #1d2330; --muted: #5b6475; --line: #d9dde5; --bg: #f6f7f9; --accent: #2456c7; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
header { position: sticky; top: 0; z-index: 2; background: #fff; border-bottom: 1px solid var(--line); padding: 10px 24px; display: flex; gap: 16px; align-items: center; flex-wrap: wrap; }
header h1 { font-size: 18px; margin: 0; }
header .where { color: var(--muted); }
header input { margin-left: auto; width: 320px; padding: 6px 10px; border: 1px solid var(--line); border-radius: 6px; font: inherit; }
nav { padding: 6px 24px; background: #fff; border-bottom: 1px solid var(--line); }
nav a { margin-right: 14px; color: var(--accent); text-decoration: none; }
main { padding: 12px 24px 48px; max-width: 1200px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 14px 18px; margin: 14px 0; }
section h2 { font-size: 16px; margin: 0 0 10px; }
h3 { font-size: 14px; margin: 16px 0 6px; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; min-width: 130px; }
.card b { display: block; font-size: 20px; }
.card span { color: var(--muted); }
.note { color: var(--muted); }
table { border-collapse: collapse; width: 100%; margin: 6px 0; }
th, td { text-align: left; padding: 3px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { cursor: pointer; user-select: none; white-space: nowrap; background: #fafbfc; }
th.sorted-asc::after { content: " \25B2"; } th.sorted-desc::after { content: " \25BC"; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.id { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12.5px; word-break: break-all; }
td.lines { white-space: pre-line; }
tr.expandable { cursor: pointer; } tr.expandable:hover { background: #f0f4ff; }
tr.detail > td { background: #fbfcfe; padding: 4px 4px 4px 22px; }
.more { margin: 6px 0; padding: 4px 10px; border: 1px solid var(--line); border-radius: 5px; background: #fff; cursor: pointer; font: inherit; }
.count { color: var(--muted); margin-left: 6px; font-weight: normal; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; vertical-align: middle; }
.badge { display: inline-block; padding: 0 6px; border-radius: 8px; font-size: 11.5px; background: #fde7e7; color: #a3161a; margin-left: 6px; }
.reasons { margin: 2px 0; padding-left: 18px; } .reasons li { margin: 1px 0; }
svg.chart { display: block; max-width: 100%; height: auto; }
svg .label, svg .value, svg .axis, svg .marklabel { font-size: 12px; fill: var(--fg); }
svg .axis { fill: var(--muted); }
svg .bin { fill: #6b8fd6; }
svg .axisline { stroke: var(--line); }
svg .startup { fill: url(#hatch) #c9ced8; fill: #d5d9e1; }
svg .block { stroke: #fff; stroke-width: 0.4; }
svg line.wall { stroke: #c0392b; stroke-width: 1.5; } svg text.wall { fill: #c0392b; }
svg line.bound { stroke: #2c7a3f; stroke-dasharray: 4 3; } svg text.bound { fill: #2c7a3f; }
svg.spark polyline { fill: none; stroke: var(--accent); stroke-width: 1.3; } svg.spark circle { fill: var(--accent); }
.legend span { margin-right: 14px; }
)CSS";

const char* const kScript = R"JS(
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("testmap-data").textContent);
  const S = data.strings;
  const str = (i) => (i < 0 ? "" : S[i]);
  const tables = [];
  let query = "";

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function secs(s) {
    if (s < 1) return s.toFixed(2) + " s";
    if (s < 60) return s.toFixed(1) + " s";
    if (s < 3600) return (s / 60).toFixed(1) + " min";
    return (s / 3600).toFixed(1) + " h";
  }
  function spark(values) {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("class", "spark");
    svg.setAttribute("width", "90");
    svg.setAttribute("height", "18");
    if (values.length < 2) return svg;
    const lo = Math.min(...values), hi = Math.max(...values), span = hi - lo > 1e-12 ? hi - lo : 1;
    const pts = values.map((v, i) => [2 + (86 * i) / (values.length - 1), 16 - (14 * (v - lo)) / span]);
    const line = document.createElementNS(ns, "polyline");
    line.setAttribute("points", pts.map((p) => p[0].toFixed(1) + "," + p[1].toFixed(1)).join(" "));
    svg.appendChild(line);
    const dot = document.createElementNS(ns, "circle");
    dot.setAttribute("cx", pts[pts.length - 1][0].toFixed(1));
    dot.setAttribute("cy", pts[pts.length - 1][1].toFixed(1));
    dot.setAttribute("r", "2");
    svg.appendChild(dot);
    return svg;
  }

  // A table over `rows` (objects); columns: {key, label, num, cell(row) -> Node|string}.
  // Renders `limit` rows, then more on demand; `search(row)` is what the search box matches.
  class LazyTable {
    constructor(container, columns, rows, opts) {
      this.columns = columns;
      this.rows = rows;
      this.opts = opts || {};
      this.limit = this.opts.limit || 100;
      this.sortKey = this.opts.sortKey || null;
      this.sortDir = this.opts.sortDir || 1;
      this.table = el("table");
      this.table.dataset.rows = String(rows.length);
      const head = el("tr");
      this.heads = columns.map((c) => {
        const th = el("th", c.num ? "num" : "", c.label);
        th.addEventListener("click", () => this.sortBy(c.key));
        head.appendChild(th);
        return th;
      });
      const thead = el("thead");
      thead.appendChild(head);
      this.table.appendChild(thead);
      this.body = el("tbody");
      this.table.appendChild(this.body);
      this.info = el("div", "note");
      this.moreButton = el("button", "more", "");
      this.moreButton.addEventListener("click", () => { this.shown += this.limit; this.draw(); });
      container.appendChild(this.table);
      container.appendChild(this.moreButton);
      container.appendChild(this.info);
      tables.push(this);
      this.refresh();
    }
    sortBy(key) {
      this.sortDir = this.sortKey === key ? -this.sortDir : (this.columns.find((c) => c.key === key).num ? -1 : 1);
      this.sortKey = key;
      this.refresh();
    }
    refresh() {
      const q = query;
      const search = this.opts.search;
      this.view = q && search ? this.rows.filter((r) => search(r).toLowerCase().includes(q)) : this.rows.slice();
      if (this.sortKey) {
        const k = this.sortKey, d = this.sortDir;
        this.view.sort((a, b) => (a[k] < b[k] ? -d : a[k] > b[k] ? d : 0));
      }
      this.heads.forEach((th, i) => {
        th.classList.toggle("sorted-asc", this.columns[i].key === this.sortKey && this.sortDir > 0);
        th.classList.toggle("sorted-desc", this.columns[i].key === this.sortKey && this.sortDir < 0);
      });
      this.shown = this.limit;
      this.draw();
    }
    draw() {
      this.body.textContent = "";
      const n = Math.min(this.shown, this.view.length);
      for (let i = 0; i < n; i++) this.body.appendChild(this.rowFor(this.view[i]));
      const left = this.view.length - n;
      this.moreButton.hidden = left <= 0;
      this.moreButton.textContent = "Show " + Math.min(left, this.limit) + " more (" + left + " not shown)";
      this.table.dataset.shown = String(this.view.length);
      this.info.textContent = query && this.opts.search ? this.view.length + " of " + this.rows.length + " match" : "";
    }
    rowFor(row) {
      const tr = el("tr");
      for (const c of this.columns) {
        const td = el("td", (c.num ? "num " : "") + (c.cls || ""));
        const v = c.cell ? c.cell(row) : row[c.key];
        if (v instanceof Node) td.appendChild(v); else td.textContent = v === undefined ? "" : String(v);
        tr.appendChild(td);
      }
      if (this.opts.expand) {
        tr.className = "expandable";
        let open = null;
        tr.addEventListener("click", (ev) => {
          if (ev.target.closest("button")) return;
          if (open) { open.remove(); open = null; return; }
          open = el("tr", "detail");
          const td = el("td");
          td.colSpan = this.columns.length;
          this.opts.expand(row, td);
          open.appendChild(td);
          tr.after(open);
        });
      }
      return tr;
    }
  }

  // The tests, as objects the tables share.
  const tiers = data.tiers;
  const tests = data.tests.map((t) => ({
    id: t[0], tier: tiers[t[1]].name, tierIndex: t[1], services: t[2].map(str).join(", "),
    seconds: t[3], estimated: !!t[4], file: str(t[5]), recorded: !!t[6], unknown: !!t[7],
    reasons: t[8], trend: t[9], slower: !!t[10],
  }));
  const testSearch = (r) => r.id;
  function tierCell(name) {
    const t = tiers.find((x) => x.name === name);
    const span = el("span");
    const sw = el("span", "swatch");
    sw.style.background = t ? t.color : "#999";
    span.appendChild(sw);
    span.appendChild(document.createTextNode(name));
    return span;
  }
  function reasonsOf(row, td) {
    const ul = el("ul", "reasons");
    if (!row.reasons.length) ul.appendChild(el("li", "note", "no service rule matched: needs no service"));
    for (const r of row.reasons) {
      const where = str(r[3]) ? " (" + str(r[3]) + (r[4] ? ":" + r[4] : "") + ")" : "";
      ul.appendChild(el("li", "", (str(r[0]) === "*" ? "every service" : str(r[0])) + ": " + str(r[1]) + ", " + str(r[2]) + where + (r[5] ? " [recorded]" : " [static]")));
    }
    td.appendChild(ul);
  }
  const testColumns = [
    { key: "id", label: "test", cls: "id" },
    { key: "tier", label: "tier", cell: (r) => tierCell(r.tier) },
    { key: "services", label: "services" },
    { key: "seconds", label: "seconds", num: true, cell: (r) => r.seconds.toFixed(3) + (r.estimated ? " (est.)" : "") },
  ];
  function testsTable(container, rows, opts) {
    return new LazyTable(container, testColumns, rows, Object.assign({ search: testSearch, expand: reasonsOf, sortKey: "seconds", sortDir: -1 }, opts || {}));
  }
  function filesOf(rows) {
    const by = new Map();
    for (const t of rows) {
      let f = by.get(t.file);
      if (!f) { f = { file: t.file, tests: 0, seconds: 0, rows: [], search: "" }; by.set(t.file, f); }
      f.tests++; f.seconds += t.seconds; f.rows.push(t);
    }
    for (const f of by.values()) f.search = f.file + "\n" + f.rows.map((t) => t.id).join("\n");
    return [...by.values()];
  }
  function filesTable(container, rows) {
    return new LazyTable(container, [
      { key: "file", label: "file", cls: "id" },
      { key: "tests", label: "tests", num: true },
      { key: "seconds", label: "seconds", num: true, cell: (r) => secs(r.seconds) },
    ], filesOf(rows), { search: (r) => r.search, sortKey: "seconds", sortDir: -1, expand: (f, td) => testsTable(td, f.rows) });
  }

  // Tiers: expand to files, files to tests, tests to reasons.
  const tierRows = tiers.map((t, i) => ({
    name: t.name, services: t.services.join(", ") || "-", tests: t.tests, files: t.files, seconds: t.seconds,
    rows: tests.filter((x) => x.tierIndex === i),
  }));
  for (const r of tierRows) r.search = r.name + "\n" + r.rows.map((t) => t.id).join("\n");
  new LazyTable(document.getElementById("tier-table"), [
    { key: "name", label: "tier", cell: (r) => tierCell(r.name) },
    { key: "services", label: "services" },
    { key: "tests", label: "tests", num: true },
    { key: "files", label: "files", num: true },
    { key: "seconds", label: "test time", num: true, cell: (r) => secs(r.seconds) },
  ], tierRows, { search: (r) => r.search, expand: (r, td) => filesTable(td, r.rows) });

  // The plan's machines.
  const machines = data.machines.map((m) => Object.assign({}, m, { services: m.services.join(", ") || "-" }));
  new LazyTable(document.getElementById("machine-table"), [
    { key: "id", label: "machine", cls: "id" },
    { key: "tier", label: "tier", cell: (r) => tierCell(r.tier) },
    { key: "services", label: "services" },
    { key: "tests", label: "tests", num: true },
    { key: "startup", label: "start-up", num: true, cell: (r) => secs(r.startup) },
    { key: "seconds", label: "wall clock", num: true, cell: (r) => secs(r.seconds) },
  ], machines, { search: (r) => r.id + "\n" + r.units.join("\n") });

  // Durations.
  const withTrend = testColumns.concat([{ key: "trendLast", label: "trend", cell: (r) => {
    const span = el("span");
    if (r.trend.length > 1) span.appendChild(spark(r.trend));
    if (r.slower) span.appendChild(el("span", "badge", "slower"));
    return span;
  } }]);
  for (const t of tests) t.trendLast = t.trend.length > 1 ? t.trend[t.trend.length - 1] / (t.trend[0] || 1e-9) : 0;
  new LazyTable(document.getElementById("slow-tests"), withTrend, tests, { search: testSearch, expand: reasonsOf, sortKey: "seconds", sortDir: -1, limit: 50 });
  const slower = tests.filter((t) => t.slower);
  if (slower.length) new LazyTable(document.getElementById("slower-tests"), withTrend, slower, { search: testSearch, expand: reasonsOf, sortKey: "seconds", sortDir: -1, limit: 50 });
  filesTable(document.getElementById("slow-files"), tests);

  // Disagreements and unknown tests.
  if (document.getElementById("diff-table")) new LazyTable(document.getElementById("diff-table"), [
    { key: "id", label: "test", cls: "id" },
    { key: "used", label: "used in a recorded run, not declared" },
    { key: "declared", label: "declared, not used" },
    { key: "unnamed", label: "addresses no service names" },
  ], data.diff, { search: (r) => r.id });
  testsTable(document.getElementById("unknown-table"), tests.filter((t) => t.unknown));
  if (document.getElementById("flaky-table")) new LazyTable(document.getElementById("flaky-table"), [
    { key: "test", label: "test", cls: "id" },
    { key: "rate", label: "pass rate", num: true, cell: (r) => (100 * r.rate).toFixed(0) + "%" },
    { key: "runs", label: "runs", num: true },
    { key: "failures", label: "failures", num: true },
  ], data.flaky, { search: (r) => r.test, sortKey: "rate", sortDir: 1 });

  if (document.getElementById("polluters-table")) new LazyTable(document.getElementById("polluters-table"), [
    { key: "test", label: "fails after", cls: "id" },
    { key: "polluters", label: "polluters (all needed)", cls: "id lines", cell: (r) => r.polluters.join("\n") + (r.minimal ? "" : "\n(not minimal)") },
    { key: "at", label: "found", cell: (r) => r.found + (r.commit ? " at " + r.commit : "") },
    { key: "runs", label: "pytest runs", num: true },
    { key: "reproduce", label: "reproduce", cls: "id" },
  ], data.polluters, { search: (r) => r.test + " " + r.polluters.join(" "), sortKey: "at", sortDir: -1 });

  if (document.getElementById("selected-table")) {
    const byId = new Map(tests.map((t) => [t.id, t]));
    const rows = data.selected.map((x) => ({ id: x.id, why: x.why.join("; "), tier: (byId.get(x.id) || {}).tier || "" }));
    new LazyTable(document.getElementById("selected-table"), [
      { key: "id", label: "test", cls: "id" },
      { key: "tier", label: "tier", cell: (r) => tierCell(r.tier) },
      { key: "why", label: "why it runs" },
    ], rows, { search: (r) => r.id });
  }

  let timer = null;
  document.getElementById("search").addEventListener("input", (ev) => {
    clearTimeout(timer);
    timer = setTimeout(() => { query = ev.target.value.trim().toLowerCase(); tables.forEach((t) => t.refresh()); }, 120);
  });
  document.body.dataset.ready = "1";
})();
)JS";

}  // namespace testmap::report
