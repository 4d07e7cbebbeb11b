/* Face check dialog: camera frames (or two photos where there is no camera API), sent to the
   server, which decides. Used by the player and, later, the quiz: FaceCheck.run(checkId)
   resolves with the server's answer {status, message, signed_out, ...}. */
(function () {
  'use strict';
  var cfg = JSON.parse(document.getElementById('face-check-config').textContent);
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var FRAMES = 6, INTERVAL_MS = 500, COUNTDOWN_S = 3, WIDTH = 640, HEIGHT = 480, PHOTO_MAX = 1280;
  function $(id) { return document.getElementById(id); }

  function post(checkId, body) {
    return fetch(cfg.attemptUrl.replace(/\/0\/attempts$/, '/' + checkId + '/attempts'), {
      method: 'POST', credentials: 'same-origin',
      headers: {'Content-Type': 'application/json', 'X-CSRFToken': csrf}, body: JSON.stringify(body)
    }).then(function (r) { return r.json().then(function (d) { return {ok: r.ok, data: d}; }); });
  }

  function say(text, kind) {
    var el = $('face-result');
    el.textContent = text || '';
    el.className = kind || '';
  }

  function run(checkId) {
    return new Promise(function (resolve) {
      var st = {checkId: checkId, resolve: resolve, stream: null};
      $('face-check').hidden = false;
      $('face-retry').onclick = function () { begin(st); };
      $('face-send-photos').onclick = function () { sendPhotos(st); };
      begin(st);
    });
  }

  function begin(st) {
    $('face-retry').hidden = true; say('');
    var media = navigator.mediaDevices;
    if (!media || !media.getUserMedia) { fallback(st); return; }
    $('face-countdown').textContent = cfg.texts.starting;
    var ready = st.stream ? Promise.resolve(st.stream) :
      media.getUserMedia({video: {facingMode: 'user', width: {ideal: WIDTH}, height: {ideal: HEIGHT}}, audio: false});
    ready.then(function (stream) {
      st.stream = stream;
      var video = $('face-video');
      video.srcObject = stream;
      return video.play().catch(function () {}).then(function () { countdown(st, COUNTDOWN_S); });
    }).catch(function () { fallback(st); });
  }

  function countdown(st, left) {
    $('face-countdown').textContent = left > 0 ? cfg.texts.hold + ' ' + left : cfg.texts.turn;
    if (left > 0) { setTimeout(function () { countdown(st, left - 1); }, 1000); return; }
    capture(st, []);
  }

  function capture(st, frames) {
    var video = $('face-video'), canvas = document.createElement('canvas');
    canvas.width = WIDTH; canvas.height = HEIGHT;
    canvas.getContext('2d').drawImage(video, 0, 0, WIDTH, HEIGHT);
    frames.push(canvas.toDataURL('image/jpeg', 0.85));
    if (frames.length < FRAMES) { setTimeout(function () { capture(st, frames); }, INTERVAL_MS); return; }
    $('face-countdown').textContent = '';
    send(st, 'camera', frames);
  }

  function fallback(st) {
    $('face-camera').hidden = true;
    $('face-instructions').hidden = true;
    $('face-fallback').hidden = false;
    $('face-countdown').textContent = '';
  }

  function sendPhotos(st) {
    var files = [$('face-photo-1').files[0], $('face-photo-2').files[0]];
    if (!files[0] || !files[1]) { say(cfg.texts.choosePhotos, 'error'); return; }
    Promise.all(files.map(shrink)).then(function (frames) { send(st, 'photos', frames); },
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

  function send(st, mode, frames) {
    say(cfg.texts.judging);
    post(st.checkId, {mode: mode, frames: frames}).then(function (res) {
      var d = res.data;
      if (!res.ok) {
        say(d.error, 'error');
        if (d.code === 'check_closed') finish(st, {status: 'closed', message: d.error});
        else $('face-retry').hidden = false;
        return;
      }
      if (d.status === 'passed' || d.status === 'review') {
        say(d.message, 'success');
        setTimeout(function () { finish(st, d); }, 1500);
      } else if (d.status === 'retry') {
        say(d.message, 'error');
        $('face-retry').hidden = false;
      } else {
        finish(st, d);   // failed or missed: the page that asked says why and what happens now
      }
    }).catch(function () { say(cfg.texts.network, 'error'); $('face-retry').hidden = false; });
  }

  function stopCamera(st) {
    if (st.stream) st.stream.getTracks().forEach(function (t) { t.stop(); });
    st.stream = null;
  }

  function finish(st, answer) {
    stopCamera(st);
    $('face-check').hidden = true;
    $('face-camera').hidden = false;
    $('face-instructions').hidden = false;
    $('face-fallback').hidden = true;
    say('');
    st.resolve(answer);
  }

  window.FaceCheck = {run: run};
})();
