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
  // A section is not replaced under the user's fingers: not while a form
  // field in it has focus, and not between the press and the release of
  // a click in it (tables with a running "since" column change every
  // second, and a button redrawn mid-click would swallow the click). The
  // newest update waits and lands when the hand is off.
  var pressed = null;
  var pending = new Map();
  function busy(el) {
    if (pressed && el.contains(pressed)) {
      return true;
    }
    var a = document.activeElement;
    return el.contains(a) && (a.tagName === "INPUT" || a.tagName === "SELECT" || a.tagName === "TEXTAREA");
  }
  function apply(el, html) {
    if (busy(el)) {
      pending.set(el, html);
      return;
    }
    pending.delete(el);
    el.innerHTML = html;
  }
  document.addEventListener("pointerdown", function (ev) {
    pressed = ev.target;
  }, true);
  function release() {
    // After the click event has run.
    setTimeout(function () {
      pressed = null;
      pending.forEach(function (html, el) {
        apply(el, html);
      });
    }, 300);
  }
  document.addEventListener("pointerup", release, true);
  document.addEventListener("pointercancel", release, true);
  document.addEventListener("focusout", function () {
    setTimeout(function () {
      pending.forEach(function (html, el) {
        apply(el, html);
      });
    }, 0);
  });
  var es = new EventSource(url);
  topics.forEach(function (t) {
    es.addEventListener(t, function (ev) {
      document.querySelectorAll('[data-live="' + t + '"]').forEach(function (el) {
        apply(el, ev.data);
      });
      document.body.setAttribute("data-live-updated", String(Date.now()));
    });
  });
  es.addEventListener("logout", function () {
    es.close();
    window.location.assign("/login?next=" + encodeURIComponent(window.location.pathname + window.location.search));
  });
})();
