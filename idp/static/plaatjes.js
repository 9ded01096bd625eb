// The picture password, without a round trip per click. Without JavaScript every picture is a
// submit button and the server keeps count; with it, clicks fill the hidden "picks" field here
// and only "Verder" goes to the server. Nothing is stored in the browser.
"use strict";
(function () {
  var form = document.querySelector("form.pictures");
  if (!form) return;
  var picks = form.querySelector("input[name=picks]");
  var dots = form.querySelectorAll(".dots .dot");
  var said = form.querySelector(".dots .visually-hidden");
  var template = form.querySelector(".dots").getAttribute("data-template") || "{n}";
  var max = dots.length;
  function list() { return picks.value ? picks.value.split(",") : []; }
  function show() {
    var n = list().length;
    for (var i = 0; i < dots.length; i++) dots[i].classList.toggle("on", i < n);
    said.textContent = template.replace("{n}", String(n));
  }
  form.addEventListener("click", function (e) {
    var b = e.target.closest("button");
    if (!b) return;
    if (b.name === "pick") {
      e.preventDefault();
      var l = list();
      if (l.length < max) { l.push(b.value); picks.value = l.join(","); }
      show();
    } else if (b.name === "action" && b.value === "opnieuw") {
      e.preventDefault();
      picks.value = "";
      show();
    }
  });
})();
