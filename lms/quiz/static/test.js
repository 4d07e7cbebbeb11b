/* The course test screen. The server serves one question at a time with the seconds left on its
   clock; the page counts down, sends the answer (or, when time is up, whatever is chosen) and shows
   what the server serves next: a question, a face check (lms/proctor/static/facecheck.js) or the
   result. #quiz[data-state] (loading, question, sending, face_check, finished, stopped) says where
   it is, for people and for tests. The correct answer never comes to this page during the test. */
(function () {
  'use strict';
  var cfg = JSON.parse(document.getElementById('quiz-config').textContent);
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var root = document.getElementById('quiz');
  var current = null, timer = null, deadline = 0, sending = false, timedOut = false;
  function $(id) { return document.getElementById(id); }
  function fmt(text, values) { return text.replace(/\{(\w+)\}/g, function (_, k) { return values[k]; }); }
  function state(name) { root.setAttribute('data-state', name); }
  function say(text, kind) { var m = $('quiz-message'); m.textContent = text || ''; m.className = kind || ''; }

  function post(url, body) {
    body.tab = cfg.tab;
    return fetch(url, {method: 'POST', credentials: 'same-origin',
      headers: {'Content-Type': 'application/json', 'X-CSRFToken': csrf}, body: JSON.stringify(body)})
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (d) { return {ok: r.ok, status: r.status, data: d}; });
      });
  }

  function stopTimer() { if (timer) { clearInterval(timer); timer = null; } }

  // The server moved on without this page hearing of it (a lost response and its retry, another
  // request): ask it where the attempt is, rather than stopping.
  var RESYNC = {already_answered: true, conflict: true};

  function handle(res) {
    sending = false;
    if (res.status === 409 && RESYNC[res.data.code]) { next(); return; }
    if (!res.ok) {
      stopTimer();
      state('stopped');
      $('quiz-question').hidden = true;
      $('quiz-countdown').textContent = '';
      $('quiz-progress').textContent = '';
      say(res.data.error || cfg.texts.network, 'error');
      return;
    }
    var d = res.data;
    if (d.state === 'question') return showQuestion(d);
    if (d.state === 'face_check') return faceCheck(d.check);
    return finished(d);
  }

  function retry(fn) {
    return function () { say(cfg.texts.network, 'error'); setTimeout(fn, 2000); };
  }

  function next() {
    post(cfg.nextUrl, {}).then(handle, retry(next));
  }

  function showQuestion(d) {
    var q = d.question;
    var fresh = !current || current.id !== q.id;
    current = q;
    state('question');
    $('quiz-question').hidden = false;
    $('quiz-question').setAttribute('data-question', q.id);
    $('quiz-progress').textContent = fmt(cfg.texts.progress, {n: q.position, total: d.total});
    $('quiz-kind').textContent = q.kind_name + ' · ' + fmt(cfg.texts.points, {p: q.points});
    $('quiz-stem').textContent = q.stem;
    if (fresh) {
      var list = $('quiz-options');
      list.textContent = '';
      var type = q.kind === 'multiple' ? 'checkbox' : 'radio';
      q.options.forEach(function (text, i) {
        var li = document.createElement('li');
        var label = document.createElement('label');
        var input = document.createElement('input');
        input.type = type; input.name = 'choice'; input.value = String(i);
        label.appendChild(input);
        label.appendChild(document.createTextNode(' ' + text));
        li.appendChild(label);
        list.appendChild(li);
      });
      if (!timedOut) say('');  // after a time-up the message stays on the next question until it is answered
      timedOut = false;
    }
    $('quiz-submit').disabled = false;
    stopTimer();
    deadline = Date.now() + d.seconds_left * 1000;
    tick();
    timer = setInterval(tick, 250);
  }

  function tick() {
    var left = Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
    $('quiz-countdown').textContent = fmt(cfg.texts.secondsLeft, {s: left});
    $('quiz-countdown').setAttribute('data-seconds', left);
    if (left <= 0 && !sending) {
      say(cfg.texts.timeUp, 'warn');
      timedOut = true;
      send(true);
    }
  }

  function chosen() {
    var picked = [];
    Array.prototype.forEach.call(document.querySelectorAll('#quiz-options input'), function (input) {
      if (input.checked) picked.push(parseInt(input.value, 10));
    });
    return picked;
  }

  function send(timeUp) {
    if (!current || sending) return;
    var choice = chosen();
    if (!timeUp && !choice.length) { say(cfg.texts.chooseOne, 'error'); return; }
    if (!timeUp) say('');
    sending = true;
    stopTimer();
    state('sending');
    $('quiz-submit').disabled = true;
    var body = {question: current.id, choice: choice};
    var attempt = function () { post(cfg.answerUrl, body).then(handle, retry(attempt)); };
    attempt();
  }

  function faceCheck(checkId) {
    stopTimer();
    state('face_check');
    $('quiz-question').hidden = true;
    say(cfg.texts.faceCheck);
    if (!window.FaceCheck) { next(); return; }
    window.FaceCheck.run(checkId).then(function () { next(); });
  }

  function finished(d) {
    stopTimer();
    state('finished');
    current = null;
    $('quiz-question').hidden = true;
    $('quiz-countdown').textContent = '';
    say('');
    var text = d.passed ? fmt(cfg.texts.passed, {score: d.score}) : fmt(cfg.texts.failed, {score: d.score});
    if (d.reason === 'face_failed' || d.reason === 'face_missed') text += ' ' + cfg.texts.endedByCheck;
    if (d.reason === 'expired') text += ' ' + cfg.texts.expired;
    $('quiz-result').textContent = text;
    $('quiz-result').setAttribute('data-passed', d.passed ? 'true' : 'false');
    $('quiz-finished').hidden = false;
  }

  $('quiz-form').addEventListener('submit', function (event) { event.preventDefault(); send(false); });
  next();
})();
