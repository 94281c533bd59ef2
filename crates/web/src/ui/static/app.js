// Steward's progressive enhancement. Every page works without it; with it:
// local times, live SLA countdowns, auto-submitting selects, live previews
// and keyboard shortcuts. No dependencies, nothing fetched from elsewhere.
(function () {
  "use strict";

  function pad(n) { return n < 10 ? "0" + n : "" + n; }

  // <time datetime="RFC3339"> → the viewer's local time.
  function localTimes(root) {
    root.querySelectorAll("time[datetime]").forEach(function (el) {
      var d = new Date(el.getAttribute("datetime"));
      if (isNaN(d)) return;
      el.title = el.textContent;
      el.textContent = d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) +
        " " + pad(d.getHours()) + ":" + pad(d.getMinutes());
    });
  }

  function span(secs) {
    var sign = secs < 0 ? "-" : "", s = Math.abs(secs);
    var d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
    if (d > 0) return sign + d + "d " + h + "h";
    if (h > 0) return sign + h + "h " + m + "m";
    return sign + m + "m";
  }

  // SLA badges count down from the server's remaining open time. Open
  // time only runs in business hours, so this is an estimate between
  // reloads; paused clocks stay still.
  var loaded = Date.now();
  function tickSla() {
    var gone = Math.floor((Date.now() - loaded) / 1000);
    document.querySelectorAll(".sla[data-remaining]").forEach(function (el) {
      if (el.dataset.paused) return;
      var left = parseInt(el.dataset.remaining, 10) - gone;
      var t = el.querySelector(".sla-time");
      if (!t) return;
      t.textContent = left <= 0 ? "breached " + span(left) : span(left);
      el.classList.toggle("sla-breached", left <= 0);
      el.classList.toggle("sla-soon", left > 0 && left <= 3600);
      el.classList.toggle("sla-ok", left > 3600);
    });
  }

  function typing(e) {
    var t = e.target;
    return t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
  }

  var pendingG = false;
  function keys(e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (typing(e)) { if (e.key === "Escape") e.target.blur(); return; }
    var rows = Array.prototype.slice.call(document.querySelectorAll("[data-keynav] tbody tr"));
    var sel = document.querySelector("[data-keynav] tbody tr.selected");
    var i = rows.indexOf(sel);
    if (pendingG) {
      pendingG = false;
      if (e.key === "q") { location.href = "/queue"; e.preventDefault(); }
      if (e.key === "d") { location.href = "/dashboards"; e.preventDefault(); }
      return;
    }
    switch (e.key) {
      case "/": var s = document.getElementById("global-search"); if (s) { s.focus(); e.preventDefault(); } break;
      case "g": pendingG = true; setTimeout(function () { pendingG = false; }, 1500); break;
      case "j": case "k":
        if (!rows.length) return;
        if (sel) sel.classList.remove("selected");
        i = e.key === "j" ? Math.min(rows.length - 1, i + 1) : Math.max(0, i - 1);
        rows[i].classList.add("selected");
        var a = rows[i].querySelector("a"); if (a) a.focus();
        e.preventDefault(); break;
      case "o": case "Enter":
        if (sel) { var link = sel.querySelector("a"); if (link) { location.href = link.href; e.preventDefault(); } }
        break;
      case "r": case "n":
        // One reply box with a public/internal choice (#f-public) serves
        // both keys; a page with a separate note box uses #note-body.
        var box = (e.key === "n" && document.getElementById("note-body")) ||
          document.getElementById("reply-body");
        if (box) {
          var pub = document.getElementById("f-public");
          if (pub) pub.value = e.key === "r" ? "true" : "false";
          box.focus(); e.preventDefault();
        }
        break;
      case "?": var d = document.getElementById("shortcuts"); if (d && d.showModal) { d.showModal(); e.preventDefault(); } break;
    }
  }

  // A select marked data-autosubmit submits its form on change.
  function autosubmit(root) {
    root.querySelectorAll("select[data-autosubmit]").forEach(function (el) {
      el.addEventListener("change", function () { el.form.submit(); });
    });
  }

  // A form with data-preview="URL" posts itself there (same CSRF token) as
  // the user types and shows the answer in the element named by
  // data-preview-target: template and Markdown previews.
  function previews(root) {
    root.querySelectorAll("form[data-preview]").forEach(function (form) {
      var out = document.getElementById(form.dataset.previewTarget);
      if (!out) return;
      var timer = null;
      function run() {
        var body = new URLSearchParams(new FormData(form));
        fetch(form.dataset.preview, { method: "POST", body: body, credentials: "same-origin",
          headers: { "Content-Type": "application/x-www-form-urlencoded" } })
          .then(function (r) { return r.text(); })
          .then(function (html) { out.innerHTML = html; })
          .catch(function () {});
      }
      form.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(run, 300); });
    });
  }

  // A form marked data-fill="ID" posts itself in the background and puts
  // the element with that id from the answer in place of this page's one:
  // applying a macro fills the reply box without a reload. Without the
  // script (or if the answer lacks the element) the post is an ordinary one
  // and its answer is the whole page.
  function fills(root) {
    root.querySelectorAll("form[data-fill]").forEach(function (form) {
      form.addEventListener("submit", function (e) {
        var target = document.getElementById(form.dataset.fill);
        if (!target || !window.fetch || !window.DOMParser) return;
        e.preventDefault();
        fetch(form.action, { method: "POST", body: new URLSearchParams(new FormData(form)),
          credentials: "same-origin", headers: { "Content-Type": "application/x-www-form-urlencoded" } })
          .then(function (r) { return r.text(); })
          .then(function (html) {
            var fresh = new DOMParser().parseFromString(html, "text/html").getElementById(form.dataset.fill);
            if (!fresh) { form.submit(); return; }
            target.replaceWith(document.importNode(fresh, true));
            var box = document.getElementById("reply-body");
            if (box) box.focus();
          })
          .catch(function () { form.submit(); });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    localTimes(document);
    autosubmit(document);
    previews(document);
    fills(document);
    if (document.querySelector(".sla[data-remaining]")) setInterval(tickSla, 15000);
    document.addEventListener("keydown", keys);
  });
})();
