/* The widget's side of the embed: height reports, events, top-window navigation, and the
   blocked-storage fallback. Messages go only to the merchant's allowed origins, never "*". */
(function () {
  "use strict";
  var body = document.body, framed = window.parent !== window;
  var origins = JSON.parse(body.getAttribute("data-origins") || "[]");

  function parentOrigins() {
    // The exact parent when the browser tells us (Chromium, Safari); else every allowed origin,
    // of which the browser delivers to the one that really is the parent, and to no other.
    var ancestors = window.location.ancestorOrigins;
    if (ancestors && ancestors.length) {
      return origins.indexOf(ancestors[0]) >= 0 ? [ancestors[0]] : [];
    }
    return origins;
  }

  function send(type, detail) {
    if (!framed) return;
    var message = { source: "my-account", type: type, detail: detail || {} };
    parentOrigins().forEach(function (o) { window.parent.postMessage(message, o); });
  }
  window.myAccount = { send: send, targets: parentOrigins };

  if (framed) {
    var content = document.getElementById("widget"), pending = false, last = 0;
    var report = function () {
      pending = false;
      var h = Math.ceil(content.getBoundingClientRect().height);
      if (h !== last) { last = h; send("resize", { height: h }); }
    };
    new ResizeObserver(function () {
      if (!pending) { pending = true; requestAnimationFrame(report); }
    }).observe(content);
    document.documentElement.classList.add("framed");
  }

  send("loaded", { page: body.getAttribute("data-page") });
  var event = body.getAttribute("data-event");
  if (event) {
    var eventDetail = {};
    try { eventDetail = JSON.parse(body.getAttribute("data-event-detail") || "{}"); } catch (e) { /* keep {} */ }
    send(event, eventDetail);
  }
  var navigate = body.getAttribute("data-navigate");
  if (navigate) send("navigate", { url: navigate });

  // Blocked storage (E-4): a cookie round trip, not document.hasStorageAccess(), which answers
  // false in a cross-site iframe even while partitioned cookies work.
  var probe = body.getAttribute("data-probe");
  function check() {
    return fetch(probe, { credentials: "include" }).then(function (r) { return r.json(); });
  }
  if (framed && probe && body.hasAttribute("data-check-storage")) {
    check().then(function (result) { if (!result.cookies) blocked(); });
  }

  // Two widgets of one site share one cookie: when both start a session at the same moment,
  // the cookie that wins no longer matches the other page's form token. Take the current token
  // just before posting, so every form matches the session the browser will send.
  if (probe) {
    document.addEventListener("submit", function (e) {
      var form = e.target, input = form.querySelector('input[name="csrf_token"]');
      if (!input || form.getAttribute("data-fresh") || (form.getAttribute("method") || "").toLowerCase() !== "post") return;
      e.preventDefault();
      var go = function () {
        form.setAttribute("data-fresh", "1");
        if (form.requestSubmit) form.requestSubmit(e.submitter); else form.submit();
      };
      check().then(function (result) { if (result.csrf) input.value = result.csrf; go(); }, go);
    });
  }

  // A form sent back with errors: the keyboard starts at the first field to fix, and a screen
  // reader reads its label and error (aria-describedby). After any other page change inside
  // the widget, focus moves to the new page's heading (issue #20-7), so keyboard and screen
  // reader users start where the page starts instead of at the top of the frame. Not on the
  // first page the host site opens: that would take the focus away from the host page.
  var invalid = document.querySelector('[aria-invalid="true"]');
  var heading = document.querySelector("#main h1");
  if (invalid) {
    invalid.focus({ preventScroll: false });
  } else if (heading && cameFromWidget()) {
    // a message left by the previous page ("You are signed out.") is read with the heading
    var flashes = Array.prototype.map.call(document.querySelectorAll("[data-flash]"),
      function (p) { return p.id; });
    if (flashes.length) heading.setAttribute("aria-describedby", flashes.join(" "));
    heading.setAttribute("tabindex", "-1");
    heading.focus({ preventScroll: false });
  }
  function cameFromWidget() {
    try {
      return !!document.referrer && new URL(document.referrer).origin === window.location.origin;
    } catch (e) {
      return false;
    }
  }

  // Pay pages: only the fields of the chosen method show (without script, all of them do).
  var methodRadios = document.querySelectorAll('input[name="method"]');
  function showMethod() {
    var chosen = document.querySelector('input[name="method"]:checked');
    document.querySelectorAll("[data-method]").forEach(function (box) {
      var kinds = box.getAttribute("data-method").split(" ");
      box.hidden = !chosen || kinds.indexOf(chosen.value) < 0;
    });
  }
  if (methodRadios.length) {
    methodRadios.forEach(function (r) { r.addEventListener("change", showMethod); });
    showMethod();
  }

  function blocked() {
    var panel = document.getElementById("storage-blocked");
    if (!panel) return;
    panel.hidden = false;
    var form = document.querySelector("[data-needs-storage]");
    if (form) form.hidden = true;
    send("storage-blocked", {});
    var ask = document.getElementById("request-storage");
    if (ask && document.requestStorageAccess) {
      ask.hidden = false;
      ask.addEventListener("click", function () {
        document.requestStorageAccess().then(function () { window.location.reload(); },
          function () { ask.hidden = true; });
      });
    }
  }
})();
