// mamori HTML report: language toggle, filters and sorting. State lives in the URL fragment
// (#q=…&rating=…&status=…&kev=1&eco=…&method=…&sort=…&dir=asc|desc&lang=ja) so a filtered view can be
// shared. status is a triage status (open, affected, not_affected …) or "in-gate" (all but not_affected
// and fixed).
(function () {
  "use strict";
  var d = document;
  var root = d.documentElement;
  var KEYS = ["q", "rating", "status", "kev", "eco", "method", "sort", "dir", "lang"];
  var defaultLang = root.getAttribute("data-default-lang") || "en";
  var form = d.getElementById("filters");
  var table = d.getElementById("findings-table");
  var groups = table ? Array.prototype.slice.call(table.tBodies) : [];
  var state = {};

  function readHash() {
    var params = new URLSearchParams(location.hash.replace(/^#/, ""));
    KEYS.forEach(function (k) { state[k] = params.get(k) || ""; });
    if (state.lang !== "ja" && state.lang !== "en") { state.lang = defaultLang; }
    if (state.dir !== "asc" && state.dir !== "desc") { state.dir = ""; }
  }

  function writeHash() {
    var params = new URLSearchParams();
    KEYS.forEach(function (k) {
      if (state[k] && !(k === "lang" && state[k] === defaultLang)) { params.set(k, state[k]); }
    });
    var hash = params.toString();
    var url = location.pathname + location.search + (hash ? "#" + hash : "");
    try { history.replaceState(null, "", url); } catch (e) { location.replace("#" + hash); }
  }

  function setLang(lang) {
    root.lang = lang;
    d.querySelectorAll("[data-" + lang + "]").forEach(function (el) {
      el.textContent = el.getAttribute("data-" + lang);
    });
    d.querySelectorAll(".langs button").forEach(function (b) {
      b.setAttribute("aria-pressed", String(b.getAttribute("data-lang") === lang));
    });
  }

  function toControls() {
    if (!form) { return; }
    form.elements.q.value = state.q;
    ["rating", "status", "eco", "method"].forEach(function (k) {
      var select = form.elements[k];
      select.value = state[k];
      if (select.value !== state[k]) { select.value = ""; state[k] = ""; }
    });
    form.elements.kev.checked = state.kev === "1";
  }

  function fromControls() {
    state.q = form.elements.q.value.trim();
    state.rating = form.elements.rating.value;
    state.status = form.elements.status.value;
    state.eco = form.elements.eco.value;
    state.method = form.elements.method.value;
    state.kev = form.elements.kev.checked ? "1" : "";
  }

  function filter() {
    var terms = state.q.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    groups.forEach(function (tb) {
      var ds = tb.dataset;
      var ok = terms.every(function (t) { return ds.text.indexOf(t) !== -1; }) &&
        (!state.rating || ds.rating === state.rating) &&
        (!state.status || ds.status === state.status || (state.status === "in-gate" && ds.gate === "1")) &&
        (!state.eco || ds.eco === state.eco) &&
        (!state.method || ds.methods.split(" ").indexOf(state.method) !== -1) &&
        (state.kev !== "1" || ds.kev === "1");
      tb.hidden = !ok;
      if (ok) { shown += 1; }
    });
    d.querySelectorAll(".shown").forEach(function (el) { el.textContent = String(shown); });
    var none = d.getElementById("no-match");
    if (none) { none.hidden = shown !== 0; }
  }

  function sort() {
    if (!table) { return; }
    var heads = table.tHead.rows[0].cells;
    var key = state.sort;
    var head = null;
    Array.prototype.forEach.call(heads, function (th) {
      if (th.getAttribute("data-sort") === key) { head = th; }
    });
    if (!head) { key = "rating"; state.sort = ""; }
    var numeric = head ? head.getAttribute("data-type") === "num" : true;
    var dir = state.dir || (numeric ? "desc" : "asc");
    var attr = "data-k-" + key;
    var sign = dir === "asc" ? 1 : -1;
    var ordered = groups.map(function (tb, i) { return [tb, i]; });
    ordered.sort(function (a, b) {
      var x = a[0].getAttribute(attr), y = b[0].getAttribute(attr), c;
      if (numeric) { c = parseFloat(x) - parseFloat(y); } else { c = x.localeCompare(y, undefined, {numeric: true}); }
      return c !== 0 ? sign * c : a[1] - b[1];
    });
    ordered.forEach(function (pair) { table.appendChild(pair[0]); });
    Array.prototype.forEach.call(heads, function (th) {
      var on = th.getAttribute("data-sort") === key;
      th.setAttribute("aria-sort", on ? (dir === "asc" ? "ascending" : "descending") : "none");
    });
  }

  function apply() {
    setLang(state.lang);
    filter();
    sort();
  }

  function changed() {
    fromControls();
    writeHash();
    filter();
  }

  readHash();
  toControls();
  apply();

  var langs = d.querySelector(".langs");
  langs.hidden = false;
  langs.addEventListener("click", function (ev) {
    var button = ev.target.closest("button[data-lang]");
    if (!button) { return; }
    state.lang = button.getAttribute("data-lang");
    writeHash();
    setLang(state.lang);
  });
  window.addEventListener("hashchange", function () { readHash(); toControls(); apply(); });

  if (!form) { return; }
  form.hidden = false;
  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  form.addEventListener("submit", function (ev) { ev.preventDefault(); });
  d.getElementById("f-reset").addEventListener("click", function () { form.reset(); changed(); });
  table.tHead.addEventListener("click", function (ev) {
    var th = ev.target.closest("th[data-sort]");
    if (!th) { return; }
    var key = th.getAttribute("data-sort");
    var numeric = th.getAttribute("data-type") === "num";
    var current = state.sort || "rating";
    var dir = state.dir || (numeric ? "desc" : "asc");
    if (current === key) { state.dir = dir === "asc" ? "desc" : "asc"; } else { state.dir = numeric ? "desc" : "asc"; }
    state.sort = key;
    writeHash();
    sort();
  });
  d.querySelectorAll(".bar-link").forEach(function (link) {
    link.addEventListener("click", function (ev) {
      ev.preventDefault();
      state.rating = link.getAttribute("data-rating");
      toControls();
      writeHash();
      filter();
      d.getElementById("findings").scrollIntoView();
    });
  });
}());
