// The domainserver console's one script: live regions. An element with data-live="URL" gets
// its content from the server-sent events at URL (HTML rendered and escaped by the server).
// Everything else works without it: forms post, links link.
"use strict";
(function () {
  function follow(el) {
    var source = new EventSource(el.getAttribute("data-live"));
    source.onmessage = function (event) {
      var focused = document.activeElement;
      var focusedInside = focused && el.contains(focused) ? focused.id : null;
      el.innerHTML = event.data;
      el.setAttribute("data-updated", String(Date.now()));
      if (focusedInside) {
        var again = document.getElementById(focusedInside);
        if (again) { again.focus(); }
      }
    };
    source.addEventListener("signedout", function () {
      source.close();
      window.location.reload();
    });
    window.addEventListener("pagehide", function () { source.close(); });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var regions = document.querySelectorAll("[data-live]");
    for (var i = 0; i < regions.length; i++) { follow(regions[i]); }
  });
})();
