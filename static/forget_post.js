// A page that answers a form sent by POST: its history entry becomes a plain visit of the
// address given (core/page_address.py), so that Back and Reload fetch that page rather than
// offer to send the form again. Without scripts the browser asks first, as before.
(function () {
  "use strict";
  var script = document.currentScript;
  if (script && window.history && window.history.replaceState) {
    window.history.replaceState(null, "", script.getAttribute("data-address"));
  }
})();
