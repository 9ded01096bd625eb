// Solves Leerpoort's proof-of-work challenge in the browser: it tries numbers n until
// SHA-256(salt + n) is the challenge, then fills in the solution and enables the form's button.
// SHA-256 is computed here (not with crypto.subtle, which is missing on plain-HTTP networks and
// costs a promise per hash). Nothing is sent anywhere but this server.
(function () {
  'use strict';
  var field = document.getElementById('challenge');
  if (!field) { return; }
  var form = field.form;
  var button = form.querySelector('button[type=submit]');
  var salt = field.dataset.salt, challenge = field.dataset.challenge;
  var max = parseInt(field.dataset.max, 10), signature = field.dataset.signature;
  var solver = makeSolver(salt, challenge);
  if (!solver) { return; }
  button.disabled = true;
  var n = 0, started = Date.now();
  function work() {
    var end = Math.min(n + 50000, max + 1);
    for (; n < end; n++) {
      if (solver(n)) {
        field.value = salt + ':' + challenge + ':' + signature + ':' + n;
        field.dataset.ms = String(Date.now() - started);
        button.disabled = false;
        return;
      }
    }
    if (n <= max) { setTimeout(work, 0); }
  }
  setTimeout(work, 0);

  // A function telling whether SHA-256(salt + n) is the challenge (hex).
  function makeSolver(salt, challenge) {
    if (!/^[0-9a-f]{64}$/.test(challenge) || salt.length > 100) { return null; }
    var K = new Int32Array([
      0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
      0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
      0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
      0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
      0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
      0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
      0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
      0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
    ]);
    var target = new Int32Array(8), i;
    for (i = 0; i < 8; i++) { target[i] = parseInt(challenge.substr(i * 8, 8), 16) | 0; }
    var msg = new Uint8Array(128), W = new Int32Array(64), H = new Int32Array(8);
    for (i = 0; i < salt.length; i++) { msg[i] = salt.charCodeAt(i) & 255; }
    var p = salt.length;
    return function (n) {
      var s = String(n), len = p + s.length, i, j;
      for (i = 0; i < s.length; i++) { msg[p + i] = s.charCodeAt(i); }
      var total = len + 9 <= 64 ? 64 : 128;
      for (i = len; i < total; i++) { msg[i] = 0; }
      msg[len] = 0x80;
      var bits = len * 8;
      msg[total - 2] = (bits >>> 8) & 255;
      msg[total - 1] = bits & 255;
      H[0] = 0x6a09e667; H[1] = 0xbb67ae85 | 0; H[2] = 0x3c6ef372; H[3] = 0xa54ff53a | 0;
      H[4] = 0x510e527f; H[5] = 0x9b05688c | 0; H[6] = 0x1f83d9ab; H[7] = 0x5be0cd19;
      for (var o = 0; o < total; o += 64) {
        for (i = 0; i < 16; i++) {
          j = o + i * 4;
          W[i] = (msg[j] << 24) | (msg[j + 1] << 16) | (msg[j + 2] << 8) | msg[j + 3];
        }
        for (i = 16; i < 64; i++) {
          var x = W[i - 15], y = W[i - 2];
          var s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
          var s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
          W[i] = (W[i - 16] + s0 + W[i - 7] + s1) | 0;
        }
        var a = H[0], b = H[1], c = H[2], d = H[3], e = H[4], f = H[5], g = H[6], h = H[7];
        for (i = 0; i < 64; i++) {
          var S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
          var t1 = (h + S1 + ((e & f) ^ (~e & g)) + K[i] + W[i]) | 0;
          var S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
          var t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
          h = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
        }
        H[0] = (H[0] + a) | 0; H[1] = (H[1] + b) | 0; H[2] = (H[2] + c) | 0; H[3] = (H[3] + d) | 0;
        H[4] = (H[4] + e) | 0; H[5] = (H[5] + f) | 0; H[6] = (H[6] + g) | 0; H[7] = (H[7] + h) | 0;
      }
      for (i = 0; i < 8; i++) { if (H[i] !== target[i]) { return false; } }
      return true;
    };
  }
})();
