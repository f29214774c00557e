// Live figures on the page of an import or export run by a worker. Without this script the page reloads itself
// (meta refresh); with it, the figures update in place and the page reloads once, when
// the work is done. No data leaves the site: it asks the page's own address.
(function () {
  "use strict";
  var box = document.getElementById("import-progress");
  if (!box || !window.fetch) { return; }
  var refresh = document.querySelector('meta[http-equiv="refresh"]');
  if (refresh) { refresh.parentNode.removeChild(refresh); }
  var bar = box.querySelector("progress");
  function tick() {
    fetch(box.getAttribute("data-url"), { credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        if (!data.running) { window.location.reload(); return; }
        ["read", "checked", "written"].forEach(function (name) {
          var cell = box.querySelector('[data-figure="' + name + '"]');
          if (cell) { cell.textContent = data[name]; }
        });
        if (bar && data.total) {
          bar.max = data.total;
          bar.value = data.done;
        }
        window.setTimeout(tick, 1000);
      })
      .catch(function () { window.setTimeout(tick, 3000); });
  }
  window.setTimeout(tick, 1000);
}());
