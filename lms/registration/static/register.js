/* Registration form: birth date and gender are asked only for documents that do not carry them
   (a mainland resident ID or a foreigner's permanent-residence card already does). */
(function () {
  'use strict';
  var type = document.getElementById('id_type');
  if (!type) return;
  function toggle() {
    var needsFacts = type.value !== 'resident_id' && type.value !== 'foreign_permanent_resident';
    document.querySelectorAll('.non-resident').forEach(function (el) { el.hidden = !needsFacts; });
  }
  type.addEventListener('change', toggle);
  toggle();
})();
