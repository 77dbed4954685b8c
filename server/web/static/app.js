// Ennichi web: live refresh of marked regions, QR refresh on My page, confirm prompts. No library.
(function () {
  "use strict";

  function poll(el) {
    var url = el.getAttribute("data-poll");
    var seconds = parseInt(el.getAttribute("data-poll-seconds") || "5", 10);
    function tick() {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
        .then(function (data) {
          el.innerHTML = data.html;
          var at = document.getElementById("live-at");
          if (at && data.at) { at.textContent = data.at; }
          el.setAttribute("data-updated", String(Date.now()));
          el.classList.remove("stale");
        })
        .catch(function () { el.classList.add("stale"); })
        .finally(function () { setTimeout(tick, seconds * 1000); });
    }
    setTimeout(tick, seconds * 1000);
  }

  function qrRefresh(el) {
    // My page: fetch a freshly signed wallet token before the shown one expires.
    var url = el.getAttribute("data-qr-refresh");
    function schedule() {
      var expires = parseInt(el.getAttribute("data-expires-ms"), 10);
      var margin = parseInt(el.getAttribute("data-margin-ms"), 10);
      var serverNow = parseInt(el.getAttribute("data-server-now-ms"), 10);
      var wait = Math.max(5000, expires - margin - serverNow);
      setTimeout(function () {
        fetch(url, { credentials: "same-origin" })
          .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
          .then(function (d) {
            el.querySelector(".qr-img").innerHTML = d.svg;
            el.setAttribute("data-expires-ms", String(d.expires_ms));
            el.setAttribute("data-server-now-ms", String(d.now_ms));
            var bal = document.getElementById("balance");
            if (bal && d.balance_text) { bal.textContent = d.balance_text; }
            var exp = document.getElementById("qr-expires");
            if (exp && d.expires_text) { exp.textContent = d.expires_text; }
            schedule();
          })
          .catch(function () { el.classList.add("stale"); setTimeout(schedule, 10000); });
      }, wait);
    }
    schedule();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-poll]").forEach(poll);
    document.querySelectorAll("[data-qr-refresh]").forEach(qrRefresh);
    document.querySelectorAll("form[data-confirm]").forEach(function (f) {
      f.addEventListener("submit", function (e) {
        if (!window.confirm(f.getAttribute("data-confirm"))) { e.preventDefault(); }
      });
    });
    var toggle = document.getElementById("menu-toggle");
    if (toggle) {
      toggle.addEventListener("click", function () {
        var header = toggle.closest("header");
        var open = header.classList.toggle("nav-open");
        toggle.setAttribute("aria-expanded", open ? "true" : "false");
      });
    }
    document.querySelectorAll("[data-print]").forEach(function (b) {
      b.addEventListener("click", function () { window.print(); });
    });
  });
})();
