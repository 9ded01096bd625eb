// The SAML HTTP-POST binding: send the Response on to the service provider at once.
(function () {
  var form = document.querySelector("form[data-auto-submit]");
  if (form) {
    form.submit();
  }
})();
