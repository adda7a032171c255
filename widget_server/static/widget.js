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
  // Two widgets on one page (E-7) share one session: a sign-in or sign-out in one is news to
  // the other. Frames of this origin under this top site share a BroadcastChannel (partitioned
  // like the cookie, so another merchant's site never hears it); the pages whose content is
  // who is signed in and that hold nothing typed (the cart, the sign-in page) reload to show it.
  var probePath = body.getAttribute("data-probe");
  if (framed && probePath && window.BroadcastChannel) {
    var merchantScope = probePath.split("/").slice(0, 3).join("/");  // "/w/<merchant>"
    var sessionNews = new BroadcastChannel("my-account-session");
    if (event === "logged-in" || event === "logged-out") {
      sessionNews.postMessage({ scope: merchantScope, event: event });
    }
    var followsSession = ["cart", "login"].indexOf(body.getAttribute("data-page")) >= 0;
    sessionNews.onmessage = function (m) {
      if (followsSession && m.data && m.data.scope === merchantScope) window.location.reload();
    };
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

  // Card fields as people type them (issue #20): the number in groups (Amex 4-6-5) with its
  // brand beside it, the expiry with its slash. The server reads digits, spaces or not.
  var BRANDS = [
    ["Amex", /^3[47]/, [4, 6, 5]], ["Visa", /^4/, [4, 4, 4, 4, 3]],
    ["Mastercard", /^(5[1-5]|2(2[2-9]|[3-6]\d|7[01]|720))/, [4, 4, 4, 4]],
    ["Discover", /^(6011|65|64[4-9])/, [4, 4, 4, 4, 3]], ["Diners Club", /^3(0[0-5]|[689])/, [4, 6, 9]],
    ["JCB", /^35/, [4, 4, 4, 4, 3]], ["UnionPay", /^62/, [4, 4, 4, 4, 3]]
  ];
  function brandOf(digits) {
    for (var i = 0; i < BRANDS.length; i++) if (BRANDS[i][1].test(digits)) return BRANDS[i];
    return null;
  }
  function grouped(digits, groups) {
    var out = [], at = 0;
    for (var i = 0; i < groups.length && at < digits.length; i++) {
      out.push(digits.slice(at, at + groups[i])); at += groups[i];
    }
    if (at < digits.length) out.push(digits.slice(at));
    return out.join(" ");
  }
  // Rewrite a field's value, keeping the caret after the same number of digits as before.
  function reformat(input, format) {
    var caret = input.selectionStart == null ? input.value.length : input.selectionStart;
    var atEnd = caret >= input.value.length;
    var before = input.value.slice(0, caret).replace(/\D/g, "").length;
    var value = format(input.value.replace(/\D/g, ""));
    if (value === input.value) return;
    input.value = value;
    if (atEnd) before = Infinity;
    var pos = 0, seen = 0;
    while (pos < value.length && seen < before) {
      if (/\d/.test(value[pos])) seen++;
      pos++;
    }
    if (document.activeElement === input) input.setSelectionRange(pos, pos);
  }
  var cardNumber = document.querySelector('input[name="card_number"]');
  if (cardNumber) {
    var brand = document.createElement("span");
    brand.className = "card-brand"; brand.id = "card-brand";
    brand.setAttribute("aria-live", "polite");
    var box = document.createElement("div");
    box.className = "card-input";
    cardNumber.parentNode.insertBefore(box, cardNumber);
    box.appendChild(cardNumber); box.appendChild(brand);
    var described = cardNumber.getAttribute("aria-describedby");
    cardNumber.setAttribute("aria-describedby", (described ? described + " " : "") + "card-brand");
    var showBrand = function () {
      var digits = cardNumber.value.replace(/\D/g, "").slice(0, 19), found = brandOf(digits);
      brand.textContent = found ? found[0] : "";
      reformat(cardNumber, function (d) {
        return grouped(d.slice(0, 19), found ? found[2] : [4, 4, 4, 4, 3]);
      });
    };
    cardNumber.addEventListener("input", showBrand);
    showBrand();
  }
  var expiry = document.querySelector('input[name="expiry"]');
  if (expiry) {
    expiry.setAttribute("inputmode", "numeric");
    expiry.addEventListener("input", function (e) {
      var deleting = e.inputType && e.inputType.indexOf("delete") === 0;
      reformat(expiry, function (d) {
        d = d.slice(0, 4);
        if (/^[2-9]$/.test(d)) d = "0" + d;  // "4" can only be April
        if (d.length > 2 || (d.length === 2 && !deleting)) return d.slice(0, 2) + "/" + d.slice(2);
        return d;
      });
    });
  }

  // A form sent back with errors: the keyboard starts at the first field to fix, and a screen
  // reader reads its label and error (aria-describedby). After any other page change inside
  // the widget, focus moves to the new page's heading (issue #20-7), so keyboard and screen
  // reader users start where the page starts instead of at the top of the frame. Not on the
  // first page the host site opens: that would take the focus away from the host page.
  // A page may name where a given event leaves the reader (`data-focus-on="cart-updated"`
  // on the cart's own list): after adding or changing a line, the cart and its new total,
  // not the top of the product list a phone has long scrolled past.
  var invalid = document.querySelector('[aria-invalid="true"]');
  var heading = document.querySelector("#main h1");
  var eventTarget = event ? document.querySelector('[data-focus-on="' + event + '"]') : null;
  if (!invalid && eventTarget) heading = eventTarget;
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

  // The Pay page's total (#20, W-12): what the server quoted, kept current as invoices are
  // ticked or the amount typed, written as the server writes money (the pattern it sends).
  // The total shown travels with the form: a post whose total is not the one the server
  // would charge is shown again for review, never charged.
  var payForm = document.querySelector("form[data-pay-total]");
  if (payForm && payForm.hasAttribute("data-money-digits")) {
    var a = function (n) { return payForm.getAttribute("data-money-" + n) || ""; };
    var digits = parseInt(a("digits"), 10) || 0;
    var formatMoney = function (minor) {
      var s = String(minor);
      while (s.length <= digits) s = "0" + s;
      var whole = s.slice(0, s.length - digits), frac = s.slice(s.length - digits);
      whole = whole.replace(/\B(?=(\d{3})+(?!\d))/g, a("group"));
      return a("pre") + whole + (digits ? a("decimal") + frac : "") + a("post");
    };
    var toMinor = function (raw) {  // as the server: "," or "." decimals, rounded half up
      var m = /^(\d{1,15})(?:[.,](\d*))?$/.exec(raw.trim());
      if (!m) return null;
      var frac = (m[2] || "") + "0".repeat(digits + 1);
      var minor = parseInt(m[1] + frac.slice(0, digits), 10);
      return frac.charAt(digits) >= "5" ? minor + 1 : minor;
    };
    var totalBox = document.getElementById("pay-total");
    var totalText = payForm.querySelector("[data-total]");
    var payButton = payForm.querySelector("[data-pay-button]");
    var shown = payForm.querySelector('input[name="total_shown"]');
    var amountInput = payForm.querySelector('input[name="amount"]');
    var review = payForm.querySelector("[data-review]");
    var update = function () {
      var total = null, raw = amountInput ? amountInput.value.trim() : "";
      if (raw) {
        total = toMinor(raw);
        if (total !== null && total <= 0) total = null;
      } else if (payForm.hasAttribute("data-pay-all")) {
        total = parseInt(payForm.getAttribute("data-pay-all"), 10) || null;
      } else {
        var ticked = payForm.querySelectorAll('input[name="invoice"]:checked');
        if (ticked.length) {
          total = 0;
          ticked.forEach(function (box) { total += parseInt(box.getAttribute("data-balance"), 10) || 0; });
        }
      }
      var known = total !== null;
      totalBox.hidden = !known;
      payButton.hidden = !known;
      totalText.textContent = known ? formatMoney(total) : "";
      // the words come from the page, in the customer's language: "Pay %(amount)s", "Pay"
      var label = payButton.getAttribute("data-pay-label") || "Pay %(amount)s";
      payButton.textContent = known ? label.replace("%(amount)s", formatMoney(total))
        : (payButton.getAttribute("data-pay-empty") || "Pay");
      shown.value = known ? String(total) : "";
      if (review) review.hidden = known;  // the button says the total: nothing to review
    };
    payForm.addEventListener("change", update);
    payForm.addEventListener("input", update);
    update();
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
