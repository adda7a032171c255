// Lists the widgets' events, as a merchant's page might use them (each box: one widget).
(function () {
  var log = document.getElementById("event-log");
  document.querySelectorAll("[data-widget-box]").forEach(function (box) {
    ["loaded", "resized", "logged-in", "logged-out", "payment-succeeded", "payment-failed",
     "order-created", "order-cancelled", "order-changed", "proposal-accepted",
     "proposal-declined", "cart-updated", "checkout-succeeded", "checkout-failed",
     "issue-opened", "issue-replied",
     "storage-blocked"].forEach(function (type) {
      box.addEventListener("myaccount:" + type, function (e) {
        var item = document.createElement("li");
        item.textContent = box.id + " " + type + " " + JSON.stringify(e.detail);
        log.appendChild(item);
      });
    });
  });
})();
