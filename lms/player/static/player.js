/* Lesson player: plays the video, reports heartbeats, and keeps the rules a person can see.
   The server decides what counts; everything here is a convenience or a hint. */
(function () {
  'use strict';
  var cfg = JSON.parse(document.getElementById('player-config').textContent);
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var video = document.getElementById('lesson-video');
  var quality = document.getElementById('quality');
  var statusEl = document.getElementById('player-status');
  var s = {token: null, seq: 0, furthest: 0, watched: 0, duration: 0, sources: [], ended: false,
           lastInteraction: Date.now(), interacted: false, promptUntil: 0, timer: null,
           checking: false, effective: 0, confirmed: 0};

  function show(text) { statusEl.textContent = text || ''; }

  function post(url, body) {
    return fetch(url, {method: 'POST', credentials: 'same-origin',
      headers: {'Content-Type': 'application/json', 'X-CSRFToken': csrf}, body: JSON.stringify(body || {})})
      .then(function (r) { return r.json().then(function (d) { return {ok: r.ok, data: d}; }); });
  }

  function start(keepPosition) {
    show(cfg.texts.loading);
    return post(cfg.startUrl, {lesson_id: cfg.lessonId}).then(function (res) {
      if (!res.ok) { show(res.data.error); return; }
      var d = res.data;
      s.token = d.playback; s.seq = 0; s.duration = d.duration;
      s.furthest = Math.max(s.furthest, d.furthest); s.watched = Math.max(s.watched, d.furthest);
      s.sources = d.sources;
      s.effective = d.effective; s.confirmed = d.confirmed;
      figures();
      fillQualities();
      var position = keepPosition !== undefined ? keepPosition : d.resume;
      load(pickDefault(), position, false);
      show('');
      if (d.check) runCheck(d.check);
    });
  }

  function fillQualities() {
    var current = quality.value;
    quality.innerHTML = '';
    s.sources.forEach(function (src) {
      var option = document.createElement('option');
      option.value = src.name; option.textContent = label(src.name);
      quality.appendChild(option);
    });
    quality.value = current;   // empty on first load: pickDefault() chooses by screen size
  }

  function label(name) { return {'360p': '流畅 360p', '480p': '标清 480p', '720p': '高清 720p'}[name] || name; }

  function pickDefault() {
    if (quality.value) return quality.value;
    var phone = Math.min(screen.width, screen.height) < 600;
    var wanted = phone ? '480p' : '720p', names = s.sources.map(function (x) { return x.name; });
    return names.indexOf(wanted) >= 0 ? wanted : names[names.length - 1];
  }

  function load(name, position, play) {
    var src = s.sources.filter(function (x) { return x.name === name; })[0];
    if (!src) return;
    quality.value = name;
    video.src = src.url;
    video.addEventListener('loadedmetadata', function once() {
      video.removeEventListener('loadedmetadata', once);
      video.currentTime = Math.min(position || 0, s.watched);
      if (play) video.play();
    });
  }

  quality.addEventListener('change', function () {
    load(quality.value, video.currentTime, !video.paused);   // the position survives a quality switch
  });

  // First viewing: no moving beyond the furthest point already watched. Going back is fine.
  video.addEventListener('timeupdate', function () {
    if (!video.seeking && video.currentTime <= s.watched + 2) s.watched = Math.max(s.watched, video.currentTime);
  });
  video.addEventListener('seeking', function () {
    if (video.currentTime > s.watched + 1) { video.currentTime = s.watched; show(cfg.texts.noSkip); }
  });
  video.addEventListener('ratechange', function () {
    if (video.playbackRate !== 1) { video.playbackRate = 1; show(cfg.texts.rate); }
  });
  video.addEventListener('error', function () {
    if (s.token && !s.ended) start(video.currentTime);   // a signed link expired: fetch fresh ones
  });

  function beat() {
    if (!s.token || s.ended) return;
    // One report at a time, so that the server sees them in order ('pause' and 'ended' come together):
    // a report asked for meanwhile is sent, with the state of that moment, when the answer arrives.
    if (s.sending) { s.again = true; return; }
    s.seq += 1;
    var body = {playback: s.token, seq: s.seq, position: video.currentTime, playing: !video.paused && !video.ended,
                visible: document.visibilityState === 'visible', focused: document.hasFocus(),
                rate: video.playbackRate, client_time: Date.now() / 1000, interacted: s.interacted};
    s.interacted = false;
    s.sending = true;
    post(cfg.heartbeatUrl, body).then(handle).catch(function () {}).then(function () {
      s.sending = false;
      if (s.again) { s.again = false; beat(); }
    });
  }

  // Credited time is what passed face checks confirmed; the rest waits for the next check.
  function figures() {
    var confirmed = cfg.faceChecks ? Math.min(s.confirmed, s.effective) : s.effective;
    document.getElementById('lesson-effective').textContent = (confirmed / 60).toFixed(1);
    var provisional = document.getElementById('lesson-provisional');
    if (provisional) provisional.textContent = ((s.effective - confirmed) / 60).toFixed(1);
  }

  // A face check is due: no playing until the server has its answer.
  function runCheck(checkId) {
    if (s.checking || s.ended || !window.FaceCheck) return;
    s.checking = true; video.pause(); closeIdlePrompt();
    window.FaceCheck.run(checkId).then(function (d) {
      s.checking = false; s.lastInteraction = Date.now(); s.interacted = true;
      if (d.status === 'passed') { s.confirmed = s.effective; figures(); }
      if (d.status === 'passed' || d.status === 'review' || d.status === 'closed') {
        show(d.message); s.noticeUntil = Date.now() + 5000;
        video.play().catch(function () {});
      } else {
        s.effective = s.confirmed; figures();   // the provisional part was voided
        endSession(d.message);
      }
    });
  }

  function handle(res) {
    if (s.ended) return;   // an answer still on its way when study stopped must not overwrite why it stopped
    var d = res.data;
    if (!res.ok) { show(d.error); if (d.code === 'unknown_playback') stop(d.error); return; }
    s.effective = d.effective;
    figures();
    document.getElementById('lesson-coverage').textContent = s.duration ? Math.min(100, Math.round(d.covered / s.duration * 100)) : 0;
    var badge = document.getElementById('lesson-complete');
    badge.textContent = d.complete ? cfg.texts.complete : cfg.texts.notComplete;
    badge.className = 'badge' + (d.complete ? ' approved' : '');
    s.furthest = Math.max(s.furthest, d.furthest);
    if (d.reason === 'superseded') { stop(d.message); return; }
    if (d.session_ended || d.reason === 'session_ended' || d.reason === 'idle') { endSession(d.message); return; }
    if (d.check) { runCheck(d.check); return; }
    if (Date.now() < (s.noticeUntil || 0)) return;   // let the learner read the check's result
    if (d.reason && d.reason !== 'started') show(d.message); else if (!video.paused) show(cfg.texts.counting);
  }

  function stop(message) {
    s.ended = true; video.pause(); clearInterval(s.timer); show(message);
  }

  function closeIdlePrompt() {
    s.promptUntil = 0;
    document.getElementById('idle-dialog').hidden = true;
  }

  function endSession(message) {
    stop(message);
    document.getElementById('idle-dialog').hidden = true;
    document.getElementById('session-ended-message').textContent = message;
    document.getElementById('session-ended').hidden = false;
  }

  ['play', 'pause', 'ended', 'seeked'].forEach(function (name) { video.addEventListener(name, beat); });
  video.addEventListener('play', function () { if (s.checking) video.pause(); });

  // Hidden page, lost focus, minimised window: pause, and say why.
  document.addEventListener('visibilitychange', function () {
    if (document.visibilityState !== 'visible' && !video.paused) { video.pause(); show(cfg.reasons.hidden); }
    beat();
  });
  window.addEventListener('blur', function () {
    if (!video.paused) { video.pause(); show(cfg.reasons.unfocused); }
    beat();
  });

  // Idle sign-out: no pointer, touch or key for a while brings a prompt; no answer ends the session.
  ['pointerdown', 'pointermove', 'keydown', 'touchstart', 'wheel'].forEach(function (name) {
    document.addEventListener(name, function () {
      if (s.promptUntil) return;          // only the prompt's own button answers it
      s.lastInteraction = Date.now(); s.interacted = true;
    }, {passive: true});
  });
  document.getElementById('still-here').addEventListener('click', function () {
    post(cfg.stillHereUrl).then(function (res) {
      if (!res.ok) { endSession(res.data.error); return; }
      s.promptUntil = 0; s.lastInteraction = Date.now(); s.interacted = true;
      document.getElementById('idle-dialog').hidden = true;
    });
  });
  setInterval(function () {
    if (s.ended) return;
    var now = Date.now();
    if (s.checking) { s.lastInteraction = now; return; }   // doing a face check is being here
    if (!s.promptUntil && now - s.lastInteraction > cfg.idleSeconds * 1000) {
      s.promptUntil = now + cfg.graceSeconds * 1000;
      video.pause();
      document.getElementById('idle-dialog').hidden = false;
    }
    if (s.promptUntil) {
      var left = Math.max(0, Math.ceil((s.promptUntil - now) / 1000));
      document.getElementById('idle-countdown').textContent = left;
      if (left === 0) {
        s.promptUntil = 0;
        post(cfg.idleTimeoutUrl).then(function (res) { endSession(res.data.message || res.data.error); });
      }
    }
  }, 500);

  s.timer = setInterval(beat, cfg.heartbeatSeconds * 1000);
  start();
})();
