/* A one-time link carries its token in the URL fragment, which browsers never send to a server
   (so it is in no access log and no Referer). Read it, drop it from the address bar and history,
   and post it: the server binds the link to this browser and continues at /set-password. */
(function () {
  'use strict';
  var form = document.getElementById('open-link');
  if (!form) return;
  var token = window.location.hash.replace(/^#/, '');
  if (window.history && window.history.replaceState) {
    window.history.replaceState(null, '', window.location.pathname);
  }
  if (!token) {
    document.getElementById('link-opening').hidden = true;
    document.getElementById('link-missing').hidden = false;
    return;
  }
  form.elements.token.value = token;
  form.submit();
})();
