// Counter screen: change the presence QR in place; keep showing the fallback when offline.
(function () {
  "use strict";
  var body = document.body;
  var qr = document.getElementById("qr");
  var offline = document.getElementById("offline");
  var stateUrl = body.getAttribute("data-state");
  var wait = Number(body.getAttribute("data-refresh")) || 60;

  function schedule(seconds) {
    window.setTimeout(refresh, Math.max(5, seconds) * 1000);
  }

  function refresh() {
    fetch(stateUrl, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      })
      .then(function (state) {
        qr.src = state.qr;
        qr.setAttribute("data-url", state.url);
        qr.hidden = false;
        offline.hidden = true;
        schedule(state.refresh_in);
      })
      .catch(function () {
        // The code on screen is about to expire: hide it and point to the printed QR.
        qr.hidden = true;
        offline.hidden = false;
        schedule(15);
      });
  }

  schedule(wait);
})();
