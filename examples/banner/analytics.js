// A stand-in for an analytics script: it sets its cookie and counts a page view.
(function () {
  var name = "_pk_id.1." + Math.random().toString(16).slice(2, 10);
  document.cookie = name + "=" + Date.now() + "; Path=/; Max-Age=34128000; SameSite=Lax";
  window.fakeAnalytics = { pageViews: 1, cookie: name };
  var status = document.getElementById("analytics-status");
  if (status) status.textContent = "running (cookie " + name + ")";
})();
