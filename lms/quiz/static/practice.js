/* Practice pages: star/unstar without leaving the page, and the mock exam's advisory countdown.
   Every page works without this script (plain forms); grading happens on the server only. */
(function () {
  'use strict';
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.content : '';

  function config(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  // --- favourites: the star button posts JSON and flips in place ---
  var practiceConfig = config('practice-config');
  if (practiceConfig) {
    Array.prototype.forEach.call(document.querySelectorAll('form.star-form'), function (form) {
      form.addEventListener('submit', function (event) {
        if (!window.fetch) { return; }  // old browsers: the plain form post
        event.preventDefault();
        var onField = form.querySelector('input[name="on"]');
        var button = form.querySelector('button');
        var on = onField.value === '1';
        button.disabled = true;
        fetch(form.action, {method: 'POST', credentials: 'same-origin',
          headers: {'Content-Type': 'application/json', 'Accept': 'application/json', 'X-CSRFToken': csrf},
          body: JSON.stringify({on: on})})
          .then(function (response) { return response.json().then(function (body) { return [response.ok, body]; }); })
          .then(function (result) {
            if (!result[0]) { throw new Error(result[1].error || practiceConfig.texts.failed); }
            var starred = result[1].favourite === true;
            onField.value = starred ? '0' : '1';
            button.textContent = starred ? practiceConfig.texts.starred : practiceConfig.texts.star;
            button.setAttribute('aria-pressed', starred ? 'true' : 'false');
          })
          .catch(function (error) { window.alert(error.message || practiceConfig.texts.failed); })
          .then(function () { button.disabled = false; });
      });
    });
  }

  // --- mock exam: a countdown of one minute per question (advisory: the paper is graded whenever handed in) ---
  var mockConfig = config('mock-config');
  if (mockConfig) {
    var clock = document.getElementById('mock-countdown');
    var timeUp = document.getElementById('mock-time-up');
    var endsAt = Date.now() + mockConfig.seconds * 1000;
    var show = function () {
      var left = Math.max(0, Math.round((endsAt - Date.now()) / 1000));
      var seconds = left % 60;
      clock.textContent = Math.floor(left / 60) + ':' + (seconds < 10 ? '0' : '') + seconds;
      if (left === 0) {
        timeUp.hidden = false;
        window.clearInterval(timer);
      }
    };
    var timer = window.setInterval(show, 1000);
    show();

    var form = document.getElementById('mock-form');
    form.addEventListener('submit', function (event) {
      var answered = {};
      Array.prototype.forEach.call(form.querySelectorAll('input:checked'), function (input) {
        answered[input.name] = true;
      });
      var missing = mockConfig.questions - Object.keys(answered).length;
      if (missing > 0 && !window.confirm(mockConfig.texts.unanswered.replace('{count}', missing))) {
        event.preventDefault();
      }
    });
  }
})();
