"""The CSS and JavaScript inlined into the HTML report (it fetches nothing)."""

from __future__ import annotations

CSS = """
:root { --error: #b42318; --warning: #b54708; --info: #175cd3; --ok: #067647; --line: #d0d5dd; --muted: #667085; --bg2: #f5f6f8; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: #101828; background: #fff; }
header { padding: 20px 28px 14px; border-bottom: 1px solid var(--line); background: var(--bg2); }
header h1 { margin: 0 0 4px; font-size: 22px; }
header .meta { color: var(--muted); }
main { padding: 8px 28px 40px; max-width: 1400px; }
section { margin-top: 26px; }
h2 { font-size: 17px; margin: 0 0 10px; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
.verdict { display: inline-block; padding: 2px 10px; border-radius: 12px; font-weight: 600; color: #fff; }
.verdict.fails { background: var(--error); } .verdict.passes { background: var(--ok); }
.cards { display: flex; gap: 12px; flex-wrap: wrap; margin-top: 14px; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 8px 16px; min-width: 120px; background: #fff; cursor: pointer; text-align: left; font: inherit; }
.card .count { font-size: 24px; font-weight: 700; display: block; }
.card.error .count { color: var(--error); } .card.warning .count { color: var(--warning); } .card.info .count { color: var(--info); }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--bg2); font-weight: 600; position: sticky; top: 0; }
td.num, th.num { text-align: right; }
tr[hidden] { display: none; }
.scroll { max-height: 460px; overflow: auto; border: 1px solid var(--line); border-radius: 6px; }
.scroll table th { z-index: 1; }
td.rule { white-space: nowrap; }
.sev { display: inline-block; min-width: 62px; padding: 0 6px; border-radius: 4px; font-size: 12px; font-weight: 600; color: #fff; text-align: center; }
.sev.error { background: var(--error); } .sev.warning { background: var(--warning); } .sev.info { background: var(--info); }
.filters { display: flex; flex-wrap: wrap; gap: 14px; align-items: center; margin-bottom: 10px; padding: 8px 10px; background: var(--bg2); border-radius: 6px; }
.filters label { white-space: nowrap; }
.filters select, .filters input[type=search] { font: inherit; padding: 2px 6px; }
.muted { color: var(--muted); }
.behind { color: var(--warning); font-weight: 600; }
.yanked { color: var(--error); font-weight: 600; }
.graph-box { overflow: auto; border: 1px solid var(--line); border-radius: 8px; max-height: 80vh; background: #fcfcfd; }
svg.graph .node rect { fill: #eef4ff; stroke: #5b7bd5; stroke-width: 1; }
svg.graph .node.root rect { fill: #dbe7ff; stroke: #1d3f9a; stroke-width: 1.6; }
svg.graph .node.sev-info rect { stroke: var(--info); stroke-width: 2; }
svg.graph .node.sev-warning rect { fill: #fff4e5; stroke: var(--warning); stroke-width: 2; }
svg.graph .node.sev-error rect { fill: #fde8e7; stroke: var(--error); stroke-width: 2.2; }
svg.graph .node { cursor: pointer; }
svg.graph[data-engine=dot] .node path, svg.graph[data-engine=dot] .node polygon { fill: #eef4ff; stroke: #5b7bd5; }
svg.graph[data-engine=dot] .node.sev-error path { fill: #fde8e7; stroke: var(--error); }
svg.graph[data-engine=dot] .node.sev-warning path { fill: #fff4e5; stroke: var(--warning); }
svg.graph .node.selected rect { stroke: #101828; stroke-width: 3; }
svg.graph .node text { text-anchor: middle; font: 600 12px system-ui, sans-serif; fill: #101828; }
svg.graph .node text.version { font-weight: 400; font-size: 10.5px; fill: var(--muted); }
svg.graph .edge { fill: none; stroke: #98a2b3; stroke-width: 1.1; }
svg.graph .edge.cycle { stroke: var(--warning); stroke-dasharray: 4 3; }
svg.graph .arrowhead { fill: #98a2b3; }
svg.graph .edge.dim { opacity: 0.15; }
.legend { display: flex; gap: 16px; margin: 6px 0 8px; color: var(--muted); font-size: 13px; }
.legend i { display: inline-block; width: 14px; height: 10px; border-radius: 3px; margin-right: 4px; vertical-align: -1px; border: 2px solid; }
footer { margin-top: 36px; color: var(--muted); font-size: 12px; }
"""

JS = r"""
(function () {
  "use strict";
  var rows = Array.prototype.slice.call(document.querySelectorAll("#findings-table tbody tr.finding"));
  var severityBoxes = Array.prototype.slice.call(document.querySelectorAll("input[name=severity]"));
  var ruleSelect = document.getElementById("rule-filter");
  var packageInput = document.getElementById("package-filter");
  var shown = document.getElementById("shown-count");
  var noMatch = document.getElementById("no-match");
  var nodes = Array.prototype.slice.call(document.querySelectorAll("svg.graph g.node"));

  function packageOf(node) {
    if (node.getAttribute("data-package")) { return node.getAttribute("data-package"); }
    var id = node.getAttribute("id") || "";
    return id.indexOf("pkg-") === 0 ? id.slice(4) : "";
  }

  function state() {
    return {
      severity: severityBoxes.filter(function (b) { return b.checked; }).map(function (b) { return b.value; }),
      rule: ruleSelect ? ruleSelect.value : "",
      pkg: packageInput ? packageInput.value.trim().toLowerCase() : ""
    };
  }

  function apply() {
    var s = state();
    var count = 0;
    rows.forEach(function (row) {
      var ok = s.severity.indexOf(row.getAttribute("data-severity")) >= 0 &&
        (!s.rule || row.getAttribute("data-rule") === s.rule) &&
        (!s.pkg || (row.getAttribute("data-package") || "").indexOf(s.pkg) >= 0);
      row.hidden = !ok;
      if (ok) { count += 1; }
    });
    if (shown) { shown.textContent = String(count); }
    if (noMatch) { noMatch.hidden = count !== 0 || rows.length === 0; }
    nodes.forEach(function (node) {
      node.classList.toggle("selected", s.pkg !== "" && packageOf(node) === s.pkg);
    });
    document.body.setAttribute("data-filtered", "true");
  }

  function writeHash() {
    var s = state();
    var parts = [];
    if (s.severity.length !== severityBoxes.length) { parts.push("severity=" + encodeURIComponent(s.severity.join(","))); }
    if (s.rule) { parts.push("rule=" + encodeURIComponent(s.rule)); }
    if (s.pkg) { parts.push("package=" + encodeURIComponent(s.pkg)); }
    var hash = parts.length ? "#" + parts.join("&") : " ";
    if (window.history && window.history.replaceState) {
      window.history.replaceState(null, "", hash === " " ? window.location.pathname + window.location.search : hash);
    }
  }

  function readHash() {
    var text = window.location.hash.replace(/^#/, "");
    if (text.indexOf("=") < 0) { apply(); return; }
    var params = {};
    text.split("&").forEach(function (pair) {
      var at = pair.indexOf("=");
      if (at > 0) { params[decodeURIComponent(pair.slice(0, at))] = decodeURIComponent(pair.slice(at + 1)); }
    });
    if (params.severity !== undefined) {
      var wanted = params.severity.split(",");
      severityBoxes.forEach(function (b) { b.checked = wanted.indexOf(b.value) >= 0; });
    }
    if (ruleSelect && params.rule !== undefined) {
      var known = Array.prototype.some.call(ruleSelect.options, function (o) { return o.value === params.rule.toUpperCase(); });
      ruleSelect.value = known ? params.rule.toUpperCase() : "";
    }
    if (packageInput && params["package"] !== undefined) { packageInput.value = params["package"]; }
    apply();
  }

  function changed() { apply(); writeHash(); }

  severityBoxes.forEach(function (b) { b.addEventListener("change", changed); });
  if (ruleSelect) { ruleSelect.addEventListener("change", changed); }
  if (packageInput) { packageInput.addEventListener("input", changed); }
  Array.prototype.forEach.call(document.querySelectorAll("button.card[data-severity]"), function (card) {
    card.addEventListener("click", function () {
      var only = card.getAttribute("data-severity");
      severityBoxes.forEach(function (b) { b.checked = b.value === only; });
      changed();
      document.getElementById("findings").scrollIntoView();
    });
  });
  function pick(node) {
    if (!packageInput) { return; }
    var name = packageOf(node);
    packageInput.value = packageInput.value === name ? "" : name;
    changed();
  }
  nodes.forEach(function (node) {
    node.addEventListener("click", function () { pick(node); });
    node.addEventListener("keydown", function (event) { if (event.key === "Enter") { pick(node); } });
  });
  window.addEventListener("hashchange", readHash);
  readHash();
}());
"""
