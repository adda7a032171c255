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
  if (event) send(event, {});
  var navigate = body.getAttribute("data-navigate");
  if (navigate) send("navigate", { url: navigate });

  // Blocked storage (E-4): a cookie round trip, not document.hasStorageAccess(), which answers
  // false in a cross-site iframe even while partitioned cookies work.
  var probe = body.getAttribute("data-probe");
  if (framed && probe) {
    fetch(probe, { credentials: "include" }).then(function (r) { return r.json(); })
      .then(function (result) { if (!result.cookies) blocked(); });
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
