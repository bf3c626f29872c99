// Pledge's pages work without this script; it only opens the section a link points at.
(function () {
  "use strict";
  function openTarget() {
    var id = window.location.hash.slice(1);
    if (!id) { return; }
    var target = document.getElementById(id);
    if (target && target.tagName === "DETAILS") {
      target.open = true;
      var summary = target.querySelector("summary");
      if (summary) { summary.focus(); }
    }
  }
  window.addEventListener("hashchange", openTarget);
  document.addEventListener("DOMContentLoaded", openTarget);
})();
