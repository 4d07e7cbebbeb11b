/* Staff course page: follow transcoding progress until every video is ready or failed. The status
   URL comes from the lessons table's data-status-url attribute. */
(function () {
  'use strict';
  var table = document.getElementById('lessons');
  if (!table || !table.dataset.statusUrl) return;
  var url = table.dataset.statusUrl;

  function poll() {
    var pending = document.querySelectorAll('.video-status[data-status="pending"], .video-status[data-status="processing"]');
    if (!pending.length) return;
    setTimeout(function () {
      fetch(url, {credentials: 'same-origin'})
        .then(function (r) { return r.json(); })
        .then(function (data) {
          var changed = data.videos.some(function (v) {
            var cell = document.querySelector('.video-status[data-lesson="' + v.lesson + '"]');
            if (!cell) return false;
            if (cell.dataset.status !== v.status) return true;
            var bar = cell.querySelector('.progress');
            if (bar) bar.textContent = v.progress + '%';
            return false;
          });
          if (changed) location.reload(); else poll();
        }).catch(poll);
    }, 2000);
  }
  poll();
})();
