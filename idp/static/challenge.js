// Solves Leerpoort's proof-of-work challenge in the browser (SHA-256 of salt + number), then
// enables the form's button. Nothing is sent anywhere but this server.
(function () {
  var field = document.getElementById('challenge');
  if (!field || !window.crypto || !window.crypto.subtle) { return; }
  var form = field.form;
  var button = form.querySelector('button[type=submit]');
  var salt = field.dataset.salt, challenge = field.dataset.challenge;
  var max = parseInt(field.dataset.max, 10), signature = field.dataset.signature;
  var enc = new TextEncoder();
  function hex(buf) {
    return Array.prototype.map.call(new Uint8Array(buf), function (b) {
      return ('0' + b.toString(16)).slice(-2);
    }).join('');
  }
  button.disabled = true;
  (async function () {
    for (var n = 0; n <= max; n++) {
      var h = hex(await crypto.subtle.digest('SHA-256', enc.encode(salt + n)));
      if (h === challenge) {
        field.value = salt + ':' + challenge + ':' + signature + ':' + n;
        button.disabled = false;
        return;
      }
    }
  })();
})();
