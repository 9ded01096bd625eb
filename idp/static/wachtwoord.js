// The password strength meter. While a password is typed it asks this server (never anyone
// else) how strong it is, with the same rule that decides when the form is sent, and shows
// the score and the advice in a live region. Without JavaScript the form works the same; the
// server's check on saving is the one that counts.
(function () {
  var form = document.getElementById('wachtwoord-kiezen');
  if (!form || !window.fetch || !window.URLSearchParams) { return; }
  var input = form.querySelector('input[name=password]');
  var box = document.getElementById('sterkte');
  var meter = document.getElementById('sterkte-meter');
  var level = document.getElementById('sterkte-niveau');
  var advice = document.getElementById('sterkte-advies');
  var csrf = form.querySelector('input[name=csrf_token]').value;
  var timer = null, asked = 0;
  function show(answer) {
    meter.value = answer.score;
    level.textContent = answer.level;
    while (advice.firstChild) { advice.removeChild(advice.firstChild); }
    answer.messages.forEach(function (m) {
      var li = document.createElement('li');
      li.textContent = m;
      advice.appendChild(li);
    });
    box.dataset.acceptable = answer.acceptable ? 'ja' : 'nee';
    box.hidden = false;
  }
  function ask() {
    var password = input.value;
    if (password === '') { box.hidden = true; return; }
    var mine = ++asked;
    var body = new URLSearchParams();
    body.set('csrf_token', csrf);
    body.set('password', password);
    body.set('entrance', form.dataset.entrance || 'school');
    body.set('token', form.dataset.token || '');
    fetch('/wachtwoord/sterkte', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: body.toString()
    }).then(function (r) {
      if (!r.ok) { throw new Error(String(r.status)); }
      return r.json();
    }).then(function (answer) {
      if (mine === asked) { show(answer); }
    }).catch(function () {
      box.hidden = true;
    });
  }
  input.addEventListener('input', function () {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(ask, 350);
  });
})();
