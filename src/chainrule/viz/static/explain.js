// The explain page's stepper: no dependencies, no network. Steps come from #steps-data; the
// graph's nodes are found by their ids (op<i>, leaf<i>, const<i>, out<i>), in the inline SVG or in
// the list that stands in for it.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("steps-data").textContent);
  var steps = data.steps;
  var COLORS = { current: "#ffd54f", currentStroke: "#c62828", done: "#fff4cc", target: "#1565c0" };
  var current = 0;
  var touched = [];  // [element, attribute, original value] to undo the last highlight

  function setAttr(el, name, value) {
    touched.push([el, name, el.getAttribute(name)]);
    el.setAttribute(name, value);
  }

  function addClass(el, name) {
    touched.push([el, "class", el.getAttribute("class")]);
    el.classList.add(name);
  }

  function undo() {
    for (var i = touched.length - 1; i >= 0; i--) {
      var t = touched[i];
      if (t[2] === null) { t[0].removeAttribute(t[1]); } else { t[0].setAttribute(t[1], t[2]); }
    }
    touched = [];
  }

  function shapes(el) {  // the outline(s) of a Graphviz node or edge
    return el.querySelectorAll("polygon, ellipse, path");
  }

  function mark(id, how) {
    var el = document.getElementById(id);
    if (!el) { return; }
    addClass(el, how);
    if (!(el instanceof SVGElement)) { return; }  // the list fallback: CSS does the rest
    var list = shapes(el);
    for (var i = 0; i < list.length; i++) {
      var s = list[i];
      if (how === "current") {
        setAttr(s, "fill", COLORS.current);
        setAttr(s, "stroke", COLORS.currentStroke);
        setAttr(s, "stroke-width", "3");
      } else if (how === "done") {
        setAttr(s, "fill", COLORS.done);
      } else if (how === "target") {
        setAttr(s, "stroke", COLORS.target);
        setAttr(s, "stroke-width", "3");
      } else if (how === "flow") {  // an edge the gradient goes back along
        setAttr(s, "stroke", COLORS.target);
        setAttr(s, "stroke-width", "2.5");
        if (s.tagName.toLowerCase() === "polygon") { setAttr(s, "fill", COLORS.target); }
      }
    }
  }

  function reveal(id) {  // scroll the graph's box (only it) to the current op when it is out of sight
    var el = document.getElementById(id);
    var box = document.getElementById("graph");
    if (!el || !box) { return; }
    var r = el.getBoundingClientRect();
    var b = box.getBoundingClientRect();
    if (r.top < b.top || r.bottom > b.bottom) {
      box.scrollTop += r.top - b.top - (box.clientHeight - r.height) / 2;
    }
    if (r.left < b.left || r.right > b.right) {
      box.scrollLeft += r.left - b.left - (box.clientWidth - r.width) / 2;
    }
  }

  function text(id, value) {
    document.getElementById(id).textContent = value;
  }

  function show(k) {
    current = Math.max(0, Math.min(steps.length - 1, k));
    var s = steps[current];
    undo();
    for (var i = 0; i < current; i++) { mark(steps[i].id, "done"); }
    s.downstream.forEach(function (d) { mark(d.target, "target"); mark(d.edge, "flow"); });
    mark(s.id, "current");
    reveal(s.id);
    var rows = document.querySelectorAll("#steps-table tbody tr");
    for (var r = 0; r < rows.length; r++) {
      if (r === current) { addClass(rows[r], "current"); }
    }
    document.body.setAttribute("data-step", String(current));
    text("counter", "step " + (current + 1) + " of " + steps.length);
    text("step-title", "Step " + (current + 1) + ": " + s.node + " (" + s.op + ")");
    text("step-output", s.output);
    text("upstream-symbol", s.upstream_symbol);
    text("upstream-value", s.upstream_value);
    text("upstream-parts", s.upstream_parts);
    text("formula", s.formula);
    text("local-values", s.local_values);
    var ul = document.getElementById("downstream");
    ul.textContent = "";
    s.downstream.forEach(function (d) {
      var li = document.createElement("li");
      li.setAttribute("data-name", d.name);
      li.setAttribute("data-target", d.target);
      var code = document.createElement("code");
      code.textContent = d.symbol;
      var pre = document.createElement("pre");
      pre.className = "value";
      pre.textContent = d.value;
      li.appendChild(code);
      li.appendChild(document.createTextNode(" = "));
      li.appendChild(pre);
      if (d.note) {
        var note = document.createElement("span");
        note.className = "note";
        note.textContent = d.note;
        li.appendChild(note);
      }
      ul.appendChild(li);
    });
    if (!s.downstream.length) {
      var none = document.createElement("li");
      none.textContent = "no input of this op needs a gradient";
      ul.appendChild(none);
    }
    document.getElementById("first").disabled = document.getElementById("prev").disabled = current === 0;
    document.getElementById("last").disabled = document.getElementById("next").disabled =
      current === steps.length - 1;
  }

  document.getElementById("first").addEventListener("click", function () { show(0); });
  document.getElementById("prev").addEventListener("click", function () { show(current - 1); });
  document.getElementById("next").addEventListener("click", function () { show(current + 1); });
  document.getElementById("last").addEventListener("click", function () { show(steps.length - 1); });
  document.addEventListener("keydown", function (e) {
    var moves = { ArrowRight: current + 1, ArrowDown: current + 1, ArrowLeft: current - 1,
                  ArrowUp: current - 1, Home: 0, End: steps.length - 1 };
    if (e.altKey || e.ctrlKey || e.metaKey || !(e.key in moves)) { return; }
    e.preventDefault();
    show(moves[e.key]);
  });
  var rows = document.querySelectorAll("#steps-table tbody tr[data-step]");
  for (var r = 0; r < rows.length; r++) {
    rows[r].addEventListener("click", function () { show(Number(this.getAttribute("data-step"))); });
  }
  if (steps.length) { show(0); }
})();
