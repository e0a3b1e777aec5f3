// Live category suggestion on the course form: debounced fetch of /provider/suggest, rendered
// with textContent only (no HTML from the server is ever inserted). The form works without it.
(function () {
  "use strict";
  var form = document.getElementById("course-form");
  if (!form || !window.fetch) { return; }
  var box = document.getElementById("live-suggestion");
  var url = form.getAttribute("data-suggest-url");
  var title = form.querySelector("[name=title]");
  var hours = form.querySelector("[name=hours]");
  var delivery = form.querySelector("[name=delivery]");
  var timer = null;
  var seq = 0;

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function render(data) {
    box.textContent = "";
    if (!data.areas.length && !data.topics.length) { return; }
    var head = el("p", "small");
    head.appendChild(document.createTextNode("Suggested for “"));
    data.segments.forEach(function (s) {
      head.appendChild(s.mark ? el("mark", "", s.text) : document.createTextNode(s.text));
    });
    head.appendChild(document.createTextNode("”:"));
    box.appendChild(head);
    data.areas.concat(data.topics).forEach(function (item) {
      var line = el("div", "sugg");
      var isTopic = data.topics.indexOf(item) >= 0;
      line.appendChild(el("span", "chip" + (isTopic ? " topic" : "") + (item.confident ? "" : " unsure"),
        item.name + (item.hours ? " · " + item.hours + " h" : "")));
      line.appendChild(el("span", "score", String(item.score)));
      if (item.runner_up) { line.appendChild(el("span", "muted small", "runner-up: " + item.runner_up)); }
      if (item.evidence && item.evidence.length) {
        var ul = el("ul", "evidence");
        item.evidence.forEach(function (e) { ul.appendChild(el("li", "", e)); });
        line.appendChild(ul);
      }
      box.appendChild(line);
    });
    (data.flags || []).forEach(function (f) { box.appendChild(el("p", "flag small", f.message || f.code)); });
  }

  function ask() {
    var q = new URLSearchParams({ title: title.value, hours: hours ? hours.value : "", delivery: delivery ? delivery.value : "" });
    var mine = ++seq;
    fetch(url + "?" + q.toString(), { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data && mine === seq) { render(data); } })
      .catch(function () { /* suggestions are a convenience; the form still works */ });
  }

  function later() { clearTimeout(timer); timer = setTimeout(ask, 350); }
  [title, hours, delivery].forEach(function (f) { if (f) { f.addEventListener("input", later); f.addEventListener("change", later); } });
  if (title.value) { ask(); }
})();
// On an approved course, say before saving when the change will take it off the public list.
(function () {
  "use strict";
  var rule = document.getElementById("approved-edit-rule");
  var form = document.getElementById("course-form");
  if (!rule || !form) { return; }
  var warning = document.getElementById("approved-edit-warning");
  var watched = { title: "title", hours: "hours", delivery: "delivery" };

  function same(name, value) {
    var was = rule.getAttribute("data-" + name) || "";
    if (name === "hours") { return parseFloat(value) === parseFloat(was); }
    if (name === "title") { return value.trim() === was; }
    return value === was;
  }

  function check() {
    var changed = [];
    Object.keys(watched).forEach(function (name) {
      var field = form.querySelector("[name=" + name + "]");
      if (field && !same(name, field.value)) { changed.push(watched[name]); }
    });
    if (changed.length) {
      warning.textContent = "You changed the " + changed.join(" and ") + ": saving takes this course off the public list until POST approves it again.";
    } else {
      warning.textContent = "";
    }
  }
  Object.keys(watched).forEach(function (name) {
    var field = form.querySelector("[name=" + name + "]");
    if (field) { field.addEventListener("input", check); field.addEventListener("change", check); }
  });
  check();
})();
