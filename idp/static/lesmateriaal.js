// The start page's tiles, fetched again while a publisher has not answered: each tile
// appears when its answer arrives. Without this script, "Opnieuw laden" does the same.
(function () {
  "use strict";
  var box = document.getElementById("lesmateriaal-tegels");
  if (!box || !window.fetch) { return; }
  var tries = 0;
  function again() {
    tries += 1;
    fetch("/lesmateriaal/tegels", { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        box.innerHTML = html;
        var list = document.getElementById("lesmateriaal");
        if (list && list.getAttribute("data-waiting") === "true" && tries < 15) {
          window.setTimeout(again, 1000);
        }
      })
      .catch(function () { /* the reload link stays */ });
  }
  window.setTimeout(again, 1000);
})();
