/* My Account widget loader: paste once, never changes URL (served with ETag and a short max-age).
   <div id="my-account"></div>
   <script src="https://HOST/embed/loader.js" data-merchant="SLUG" data-profile="ID"
           data-target="#my-account" async></script>
   Events are re-emitted on the container as CustomEvents named "myaccount:<type>". */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.src) return;
  var d = script.dataset, origin = new URL(script.src).origin;
  if (!d.merchant || !d.profile) return;
  var box = d.target ? document.querySelector(d.target) : null;
  if (!box) {
    box = document.createElement("div");
    script.parentNode.insertBefore(box, script);
  }
  var kind = d.widget === "cart" ? "cart" : "";
  // A link from an email or PDF (sign-up, reset, pay, an order, a proposal, an issue) arrives
  // as #myaccount=/credentials/TOKEN or #myaccount=/proposals/12: only these shapes open
  var start = /[#&]myaccount=([^&]+)/.exec(location.hash);
  start = start && decodeURIComponent(start[1]);
  if (!kind && start && /^\/((credentials|reset)\/[\w-]{10,100}|pay\/[\w.-]{10,300}|login|(invoices|orders|proposals|issues)(\/\d{1,12})?)$/.test(start)) {
    kind = start.slice(1);
  }
  var q = "?embed=1";
  if (d.session) q += "&session=" + encodeURIComponent(d.session);
  var frame = document.createElement("iframe");
  frame.src = origin + "/w/" + encodeURIComponent(d.merchant) + "/" +
    encodeURIComponent(d.profile) + "/" + kind + q;
  frame.title = d.title || (d.widget === "cart" ? "Shopping cart" : "My account");
  frame.allow = "payment";
  frame.setAttribute("scrolling", "no");
  frame.style.cssText = "border:0;width:100%;display:block;height:420px;overflow:hidden";
  box.appendChild(frame);

  var EVENTS = /^(loaded|logged-in|logged-out|payment-succeeded|payment-failed|order-created|order-cancelled|order-changed|proposal-accepted|proposal-declined|cart-updated|checkout-succeeded|checkout-failed|issue-opened|issue-replied|storage-blocked)$/;
  var height = 0, targets = null, step = 0, streak = 0, at = 0;

  function emit(type, detail) {
    box.dispatchEvent(new CustomEvent("myaccount:" + type, { detail: detail || {}, bubbles: true }));
  }

  function go(url) {
    // Only URLs the merchant configured for this profile may take over the top window.
    if (!targets) {
      targets = fetch(origin + "/embed/targets/" + encodeURIComponent(d.merchant) + "/" +
        encodeURIComponent(d.profile)).then(function (r) { return r.json(); });
    }
    targets.then(function (list) {
      var base = String(url).split(/[?#]/)[0];
      if (list.indexOf(base) >= 0) window.top.location.href = url;
    });
  }

  window.addEventListener("message", function (e) {
    var m = e.data;
    if (e.origin !== origin || e.source !== frame.contentWindow) return;
    if (!m || typeof m !== "object" || m.source !== "my-account" || typeof m.type !== "string") return;
    var detail = m.detail && typeof m.detail === "object" ? m.detail : {};
    if (m.type === "resize") {
      var h = Math.round(Number(detail.height));
      if (!isFinite(h)) return;
      h = Math.min(Math.max(h, 120), 20000);
      if (Math.abs(h - height) < 3) return; // ignore jitter
      // Content sized by the viewport (100vh) grows by the same step each time the frame
      // does: after three such steps in quick succession, stop following it.
      var now = Date.now(), delta = h - height;
      streak = delta > 0 && Math.abs(delta - step) < 3 && now - at < 1000 ? streak + 1 : 0;
      step = delta;
      at = now;
      if (streak >= 3) return;
      height = h;
      frame.style.height = h + "px";
      emit("resized", { height: h });
    } else if (m.type === "navigate" && typeof detail.url === "string") {
      go(detail.url);
    } else if (EVENTS.test(m.type)) {
      emit(m.type, detail);
    }
  });
})();
