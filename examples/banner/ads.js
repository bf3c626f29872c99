// A stand-in for an advertising script: it sets its cookie to recognise the browser.
(function () {
  document.cookie = "_ads_id=" + Date.now() + "; Path=/; Max-Age=7776000; SameSite=Lax";
  window.fakeAds = { loaded: true };
  var status = document.getElementById("ads-status");
  if (status) status.textContent = "running (cookie _ads_id)";
})();
