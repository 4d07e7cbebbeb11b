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
           checking: false, effective: 0, confirmed: 0, provisional: 0,   // as the server serves them
           focused: document.hasFocus(),   // kept by blur/focus events: hasFocus() may still say true in a blur handler
           pausedFor: null,                // why the page itself paused the video (PAUSED_FOR), until the learner plays
           restarts: 0,                    // fresh links fetched after video errors, since the video last played
           restarting: false,              // fresh links are on their way: answers about the old playback are stale
           wasPlaying: false,              // playing, or stopped only by an error (which pauses the video)
           waiting: false};                // asked to play but waiting for data ('waiting'), until 'playing'
  var HAVE_FUTURE_DATA = 3;   // HTMLMediaElement.readyState: below it a playing video cannot move on
  // What the status line says while the video stays paused for the page's own reason.
  var PAUSED_FOR = {hidden: cfg.reasons.hidden, unfocused: cfg.reasons.unfocused, check: cfg.reasons.check_due,
                    idle: cfg.texts.idlePaused};
  var MAX_RESTARTS = 3;
  var POSITION_SLACK = 1.5;   // seconds; as the server's position_slack
  var TIMEOUT_MS = Math.max(30, 3 * cfg.heartbeatSeconds) * 1000;   // a request without an answer by then has failed

  function show(text) { statusEl.textContent = text || ''; }

  // Resolves with {ok, status, data}; an answer that is not JSON (a proxy's error page) becomes an error with a
  // message of its own. Rejects only when there is no answer at all (network down, or no answer in time).
  function post(url, body) {
    var abort = typeof AbortController === 'function' ? new AbortController() : null;
    var timer = abort ? setTimeout(function () { abort.abort(); }, TIMEOUT_MS) : null;
    return fetch(url, {method: 'POST', credentials: 'same-origin', signal: abort ? abort.signal : undefined,
      headers: {'Content-Type': 'application/json', 'X-CSRFToken': csrf}, body: JSON.stringify(body || {})})
      .then(function (r) {
        return r.json().then(function (d) {
          if (d && typeof d === 'object') return {ok: r.ok, status: r.status, data: d};
          throw new Error('not an object');
        }).catch(function () {
          return {ok: false, status: r.status, data: {error: cfg.texts.serverError + ' (HTTP ' + r.status + ')'}};
        });
      })
      .then(function (res) { clearTimeout(timer); return res; },
            function (error) { clearTimeout(timer); throw error; });
  }

  function start(keepPosition, play) {
    show(cfg.texts.loading);
    return post(cfg.startUrl, {lesson_id: cfg.lessonId}).then(function (res) {
      s.restarting = false;
      if (s.ended) return;
      if (!res.ok) { show(res.data.error); return; }
      var d = res.data;
      s.token = d.playback; s.seq = 0; s.duration = d.duration;
      s.furthest = Math.max(s.furthest, d.furthest); s.watched = Math.max(s.watched, d.furthest);
      s.sources = d.sources;
      s.effective = d.effective; s.confirmed = d.confirmed; s.provisional = d.provisional;
      figures();
      fillQualities();
      var position = keepPosition !== undefined ? keepPosition : d.resume;
      load(pickDefault(), position, !!play && !d.check);
      show('');
      if (d.check) runCheck(d.check);
    }).catch(function () { s.restarting = false; if (!s.ended) show(cfg.texts.network); });
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
      if (play) video.play().catch(function () {});
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
  // A signed link expired (or the video failed to load): fetch fresh links and go on from the same point,
  // playing if it played. A new playback starts; the server anchors it where credit stood. A video that
  // fails again and again without playing in between is not retried for ever.
  video.addEventListener('error', function () {
    if (!s.token || s.ended) return;
    if (s.restarts >= MAX_RESTARTS) { show(cfg.texts.videoError); return; }
    s.restarts += 1;
    s.restarting = true;
    start(video.currentTime, s.wasPlaying);
  });
  video.addEventListener('play', function () { s.wasPlaying = true; });   // asked to play: data may be on its way
  video.addEventListener('playing', function () { s.restarts = 0; s.wasPlaying = true; });
  video.addEventListener('pause', function () { if (!video.error) s.wasPlaying = false; });

  // Buffering is not playing: a video that waits for data says so, earns nothing while it waits, and is not
  // taken for a frozen one. The server hears of it at once ('waiting', or 'stalled' with too little data) and
  // again when the video moves on ('playing'), so that the stall is one stretch without credit.
  function buffering() {
    return !video.paused && !video.ended && (s.waiting || video.readyState < HAVE_FUTURE_DATA);
  }
  function startWaiting() {
    if (video.paused || s.waiting) return;
    s.waiting = true;
    if (!s.checking && !s.ended) show(cfg.reasons.buffering);
    beat();
  }
  video.addEventListener('waiting', startWaiting);
  video.addEventListener('stalled', function () { if (video.readyState < HAVE_FUTURE_DATA) startWaiting(); });
  video.addEventListener('playing', function () {
    if (!s.waiting) return;
    s.waiting = false;
    beat();
  });
  video.addEventListener('pause', function () { s.waiting = false; });
  video.addEventListener('emptied', function () { s.waiting = false; });
  video.addEventListener('ended', function () { s.wasPlaying = false; });

  function beat() {
    if (!s.token || s.ended) return;
    // One report at a time, so that the server sees them in order ('pause' and 'ended' come together):
    // a report asked for meanwhile is sent, with the state of that moment, when the answer arrives.
    if (s.sending) { s.again = true; return; }
    s.seq += 1;
    var token = s.token;
    var body = {playback: token, seq: s.seq, position: video.currentTime, playing: !video.paused && !video.ended,
                buffering: buffering(), visible: document.visibilityState === 'visible', focused: s.focused,
                rate: video.playbackRate, client_time: Date.now() / 1000, interacted: s.interacted};
    s.interacted = false;
    s.sending = true;
    post(cfg.heartbeatUrl, body).then(function (res) {
      // An answer about a playback the page has replaced, or is replacing, says nothing about the new one.
      if (token === s.token && !s.restarting) handle(res, body);
    }).catch(function () {
      if (!s.ended) show(cfg.texts.network);
    }).then(function () {
      s.sending = false;
      if (s.again) { s.again = false; beat(); }
    });
  }

  // Credited time is what passed face checks confirmed; the rest waits for the next check. Both figures
  // come from the server (at the start, and when the session ends); in between, new credit is provisional
  // until a check passes (with face checks off it counts at once, as on the server).
  function figures() {
    document.getElementById('lesson-effective').textContent = (s.confirmed / 60).toFixed(1);
    var provisional = document.getElementById('lesson-provisional');
    if (provisional) provisional.textContent = (s.provisional / 60).toFixed(1);
  }

  function credit(effective) {
    var added = Math.max(0, effective - s.effective);
    s.effective = effective;
    if (cfg.faceChecks) s.provisional += added; else s.confirmed += added;
  }

  // A face check is due: no playing until the server has its answer.
  function runCheck(checkId) {
    if (s.checking || s.ended || !window.FaceCheck) return;
    s.checking = true; pauseFor('check'); closeIdlePrompt();
    window.FaceCheck.run(checkId).then(function (d) {
      s.checking = false; s.lastInteraction = Date.now(); s.interacted = true;
      if (d.status === 'passed') { s.confirmed += s.provisional; s.provisional = 0; figures(); }
      if (d.status === 'passed' || d.status === 'review' || d.status === 'closed') {
        show(d.message); s.noticeUntil = Date.now() + 5000;
        video.play().catch(function () {});
      } else {
        s.effective -= s.provisional; s.provisional = 0; figures();   // the provisional part was voided
        endSession(d.message);
      }
    });
  }

  // The answer to a heartbeat. One that says the session ended ends it here, whatever its HTTP status (the
  // worker may have signed the learner out first: then the answer is a 401 that still says why).
  function handle(res, body) {
    if (s.ended) return;   // an answer still on its way when study stopped must not overwrite why it stopped
    var d = res.data;
    if (!res.ok && !d.session_ended) {
      if (d.code === 'unknown_playback') { stop(d.error); return; }
      if (res.status === 401 || res.status === 403) { endSession(d.error); return; }   // no longer signed in
      show(d.error);
      return;
    }
    if (typeof d.effective === 'number') credit(d.effective);
    if (typeof d.confirmed === 'number') {   // the session ended: the server's figures, after any voiding
      s.confirmed = d.confirmed; s.provisional = d.provisional;
    }
    figures();
    if (typeof d.covered === 'number') {
      document.getElementById('lesson-coverage').textContent = s.duration ? Math.min(100, Math.round(d.covered / s.duration * 100)) : 0;
      var badge = document.getElementById('lesson-complete');
      badge.textContent = d.complete ? cfg.texts.complete : cfg.texts.notComplete;
      badge.className = 'badge' + (d.complete ? ' approved' : '');
    }
    if (typeof d.furthest === 'number') s.furthest = Math.max(s.furthest, d.furthest);
    if (d.session_ended || d.reason === 'session_ended' || d.reason === 'idle') {
      endSession(d.message || cfg.reasons[d.session_ended || d.reason] || d.error);
      return;
    }
    if (d.reason === 'superseded') { stop(d.message); return; }
    if (d.check) { runCheck(d.check); return; }
    // A refused report: the server goes on from the last position it accepts as real (never beyond what was
    // credited), and so must the video, or every later report would be measured from there and refused too.
    // Not for a report at another speed: that is no late or lost report, and the page's own rule sets 1x.
    if (typeof d.accepted_position === 'number' && body && body.rate === 1 &&
        d.accepted_position < body.position - POSITION_SLACK) {
      s.watched = Math.max(d.accepted_position, s.furthest);
      if (video.currentTime > d.accepted_position + POSITION_SLACK) video.currentTime = d.accepted_position;
      show((d.message ? d.message + ' ' : '') + cfg.texts.wentBack);
      s.noticeUntil = Date.now() + 4000;
      return;
    }
    if (Date.now() < (s.noticeUntil || 0)) return;   // let the learner read the check's result, or why it went back
    if (d.reason === 'paused' && s.pausedFor && video.paused) { show(PAUSED_FOR[s.pausedFor]); return; }
    if (d.reason && d.reason !== 'started') show(d.message); else if (!video.paused) show(cfg.texts.counting);
  }

  // The page pauses the video itself: say why, and keep saying it until the learner plays again.
  function pauseFor(reason) {
    if (video.paused) return;
    s.pausedFor = reason;
    video.pause();
    show(PAUSED_FOR[reason]);
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
    closeFaceCheck();
    document.getElementById('session-ended-message').textContent = message;
    document.getElementById('session-ended').hidden = false;
  }

  // Nothing may cover why study stopped: a face check still waiting for an answer closes (its camera too).
  function closeFaceCheck() {
    var dialog = document.getElementById('face-check');
    if (!dialog) return;
    dialog.hidden = true;
    var camera = document.getElementById('face-video');
    if (camera && camera.srcObject && camera.srcObject.getTracks) {
      camera.srcObject.getTracks().forEach(function (t) { t.stop(); });
    }
  }

  video.addEventListener('play', function () {
    if (s.checking) { video.pause(); return; }
    s.pausedFor = null;   // the learner plays again: the page's own reason for the pause is over
  });
  ['play', 'pause', 'ended', 'seeked'].forEach(function (name) { video.addEventListener(name, beat); });

  // Hidden page, lost focus, minimised window: pause, and say why. Focus is tracked from the events,
  // and a real click, touch or key press means the window has it.
  document.addEventListener('visibilitychange', function () {
    if (document.visibilityState !== 'visible') pauseFor('hidden');
    else if (document.hasFocus()) s.focused = true;   // back in front: some browsers send no focus event then
    beat();
  });
  window.addEventListener('blur', function () {
    s.focused = false;
    pauseFor('unfocused');
    beat();
  });
  window.addEventListener('focus', function () { s.focused = true; });
  ['pointerdown', 'keydown', 'touchstart'].forEach(function (name) {
    document.addEventListener(name, function (e) {
      if (e.isTrusted) s.focused = true;
    }, {passive: true, capture: true});
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
    }).catch(function () { show(cfg.texts.network); });
  });
  setInterval(function () {
    if (s.ended) return;
    var now = Date.now();
    if (s.checking) { s.lastInteraction = now; return; }   // doing a face check is being here
    if (!s.promptUntil && now - s.lastInteraction > cfg.idleSeconds * 1000) {
      s.promptUntil = now + cfg.graceSeconds * 1000;
      pauseFor('idle');
      document.getElementById('idle-dialog').hidden = false;
    }
    if (s.promptUntil) {
      var left = Math.max(0, Math.ceil((s.promptUntil - now) / 1000));
      document.getElementById('idle-countdown').textContent = left;
      if (left === 0) {
        s.promptUntil = 0;
        post(cfg.idleTimeoutUrl).then(function (res) { endSession(res.data.message || res.data.error); },
                                      function () { endSession(cfg.reasons.idle); });
      }
    }
  }, 500);

  s.timer = setInterval(beat, cfg.heartbeatSeconds * 1000);
  start();
})();
