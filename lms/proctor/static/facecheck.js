/* Face check dialog. Used by the player and, later, the quiz: FaceCheck.run(checkId) resolves with the
   server's answer {status, message, signed_out, ...}.
   Each try: open the camera, ask the server for a challenge (which way to turn, before which frame the
   arrow appears, a nonce), take the frames on the server's schedule, showing the arrow only at its
   moment, and post them with the nonce. Without a camera API the server gives the same challenge for
   two photos. The dialog's data-phase (starting, hold, prompt, judging, result, photos) and data-action
   (left, right, up, down) say where it is, for people and for tests. */
(function () {
  'use strict';
  var cfg = JSON.parse(document.getElementById('face-check-config').textContent);
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var WIDTH = 640, HEIGHT = 480, PHOTO_MAX = 1280;
  function $(id) { return document.getElementById(id); }

  function post(template, checkId, body) {
    return fetch(template.replace(/\/0\//, '/' + checkId + '/'), {
      method: 'POST', credentials: 'same-origin',
      headers: {'Content-Type': 'application/json', 'X-CSRFToken': csrf}, body: JSON.stringify(body)
    }).then(function (r) { return r.json().then(function (d) { return {ok: r.ok, data: d}; }); });
  }

  function phase(name, action) {
    var dialog = $('face-check');
    dialog.setAttribute('data-phase', name);
    if (action) dialog.setAttribute('data-action', action); else dialog.removeAttribute('data-action');
  }

  function say(text, kind) {
    var el = $('face-result');
    el.textContent = text || '';
    el.className = kind || '';
  }

  function showArrow(action) {
    var arrow = $('face-arrow');
    arrow.className = action || '';
    arrow.hidden = !action;
  }

  function run(checkId) {
    return new Promise(function (resolve) {
      var st = {checkId: checkId, resolve: resolve, stream: null, challenge: null};
      $('face-check').hidden = false;
      $('face-retry').onclick = function () { begin(st); };
      $('face-send-photos').onclick = function () { sendPhotos(st); };
      begin(st);
    });
  }

  function begin(st) {
    $('face-retry').hidden = true; say(''); showArrow(null);
    phase('starting');
    var media = navigator.mediaDevices;
    if (!media || !media.getUserMedia) { fallback(st); return; }
    $('face-countdown').textContent = cfg.texts.starting;
    var ready = st.stream ? Promise.resolve(st.stream) :
      media.getUserMedia({video: {facingMode: 'user', width: {ideal: WIDTH}, height: {ideal: HEIGHT}}, audio: false});
    ready.then(function (stream) {
      st.stream = stream;
      var video = $('face-video');
      video.srcObject = stream;
      return video.play().catch(function () {}).then(function () {
        challenge(st, true, function (c) { capture(st, c); });
      });
    }, function () { fallback(st); });
  }

  // Ask the server what this try must show; only then is the schedule known.
  function challenge(st, camera, then) {
    post(cfg.challengeUrl, st.checkId, {camera: camera}).then(function (res) {
      if (!res.ok) { refused(st, res.data); return; }
      st.challenge = res.data;
      then(res.data);
    }).catch(function () { say(cfg.texts.network, 'error'); $('face-retry').hidden = false; });
  }

  // The server's schedule: hold_frames frames interval_ms apart while the head holds still; the arrow one
  // interval after the last of them; then burst_frames frames burst_interval_ms apart, in which the move
  // must be seen happening. Each frame is due at a fixed time from the start, so a late timer does not
  // delay the frames after it.
  function capture(st, c) {
    var frames = [], start = performance.now(), promptAt = c.hold_frames * c.interval_ms;
    phase('hold');
    $('face-countdown').textContent = cfg.texts.hold;
    function dueAt(index) {
      return index < c.hold_frames ? index * c.interval_ms
                                   : promptAt + (index - c.hold_frames + 1) * c.burst_interval_ms;
    }
    setTimeout(function () {
      phase('prompt', c.action);
      showArrow(c.action);
      $('face-countdown').textContent = cfg.texts[c.action];
    }, promptAt);
    function next() {
      frames.push(grab(frames.length < c.hold_frames ? 0.85 : 0.75));
      if (frames.length >= c.frame_count) {
        showArrow(null);
        $('face-countdown').textContent = '';
        send(st, frames);
        return;
      }
      setTimeout(next, Math.max(start + dueAt(frames.length) - performance.now(), 0));
    }
    next();
  }

  function grab(quality) {
    var canvas = document.createElement('canvas');
    canvas.width = WIDTH; canvas.height = HEIGHT;
    canvas.getContext('2d').drawImage($('face-video'), 0, 0, WIDTH, HEIGHT);
    return canvas.toDataURL('image/jpeg', quality);
  }

  function fallback(st) {
    $('face-camera').hidden = true;
    $('face-instructions').hidden = true;
    $('face-countdown').textContent = '';
    challenge(st, false, function (c) {
      phase('photos', c.action);
      $('face-photo-2-label').textContent = c.action === 'left' ? cfg.texts.photoLeft : cfg.texts.photoRight;
      $('face-photo-1').value = ''; $('face-photo-2').value = '';
      $('face-fallback').hidden = false;
    });
  }

  function sendPhotos(st) {
    var files = [$('face-photo-1').files[0], $('face-photo-2').files[0]];
    if (!files[0] || !files[1]) { say(cfg.texts.choosePhotos, 'error'); return; }
    Promise.all(files.map(shrink)).then(function (frames) { send(st, frames); },
                                        function () { say(cfg.texts.network, 'error'); });
  }

  // Phone photos are several MB: redraw them at most PHOTO_MAX pixels wide or high.
  function shrink(file) {
    return new Promise(function (resolve, reject) {
      var img = new Image(), url = URL.createObjectURL(file);
      img.onload = function () {
        var scale = Math.min(1, PHOTO_MAX / Math.max(img.width, img.height));
        var canvas = document.createElement('canvas');
        canvas.width = Math.round(img.width * scale); canvas.height = Math.round(img.height * scale);
        canvas.getContext('2d').drawImage(img, 0, 0, canvas.width, canvas.height);
        URL.revokeObjectURL(url);
        resolve(canvas.toDataURL('image/jpeg', 0.85));
      };
      img.onerror = reject;
      img.src = url;
    });
  }

  function send(st, frames) {
    phase('judging');
    say(cfg.texts.judging);
    post(cfg.attemptUrl, st.checkId, {nonce: st.challenge.nonce, frames: frames}).then(function (res) {
      var d = res.data;
      phase('result');
      if (!res.ok) { refused(st, d); return; }
      if (d.status === 'passed' || d.status === 'review') {
        say(d.message, 'success');
        setTimeout(function () { finish(st, d); }, 1500);
      } else if (d.status === 'retry') {
        say(d.message, 'error');
        $('face-fallback').hidden = true;
        $('face-retry').hidden = false;
      } else {
        finish(st, d);   // failed or missed: the page that asked says why and what happens now
      }
    }).catch(function () { say(cfg.texts.network, 'error'); $('face-retry').hidden = false; });
  }

  // The server refused the request itself (not the pictures): closed checks end the dialog.
  function refused(st, d) {
    phase('result');
    say(d.error, 'error');
    if (d.code === 'check_closed' || d.code === 'no_attempts_left') finish(st, {status: 'closed', message: d.error});
    else $('face-retry').hidden = false;
  }

  function stopCamera(st) {
    if (st.stream) st.stream.getTracks().forEach(function (t) { t.stop(); });
    st.stream = null;
  }

  function finish(st, answer) {
    stopCamera(st);
    showArrow(null);
    $('face-check').hidden = true;
    $('face-camera').hidden = false;
    $('face-instructions').hidden = false;
    $('face-fallback').hidden = true;
    say('');
    st.resolve(answer);
  }

  window.FaceCheck = {run: run};
})();
