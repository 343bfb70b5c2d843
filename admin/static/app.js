// deskpbx admin: keeps [data-live] sections current over Server-Sent
// Events and asks before destructive form posts. No inline script: the
// page's Content-Security-Policy allows only this file.
(function () {
  "use strict";

  document.addEventListener("submit", function (ev) {
    var msg = ev.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) {
      ev.preventDefault();
    }
  });

  document.addEventListener("focusin", function (ev) {
    if (ev.target.hasAttribute && ev.target.hasAttribute("data-select")) {
      ev.target.select();
    }
  });

  var sections = document.querySelectorAll("[data-live]");
  if (!sections.length || !window.EventSource) {
    return;
  }
  var topics = [];
  sections.forEach(function (el) {
    var t = el.getAttribute("data-live");
    if (topics.indexOf(t) < 0) {
      topics.push(t);
    }
  });
  var url = "/events?topics=" + encodeURIComponent(topics.join(","));
  var scoped = document.querySelector("[data-live-tenant]");
  if (scoped) {
    url += "&tenant=" + encodeURIComponent(scoped.getAttribute("data-live-tenant"));
  }
  var es = new EventSource(url);
  topics.forEach(function (t) {
    es.addEventListener(t, function (ev) {
      document.querySelectorAll('[data-live="' + t + '"]').forEach(function (el) {
        // A form being filled in inside a live section is not replaced
        // under the user's fingers.
        if (el.contains(document.activeElement) && document.activeElement.tagName === "INPUT") {
          return;
        }
        el.innerHTML = ev.data;
      });
      document.body.setAttribute("data-live-updated", String(Date.now()));
    });
  });
  es.addEventListener("logout", function () {
    es.close();
    window.location.assign("/login?next=" + encodeURIComponent(window.location.pathname + window.location.search));
  });
})();
