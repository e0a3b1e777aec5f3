// Progressive enhancement only: the page works without it.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("select.js-autosubmit").forEach(function (select) {
    select.addEventListener("change", function () { if (select.form) select.form.submit(); });
  });
});
