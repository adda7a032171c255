// Lists the widget's events, as a merchant's page might use them.
(function () {
  var log = document.getElementById("event-log");
  ["loaded", "resized", "logged-in", "logged-out", "payment-succeeded", "payment-failed",
   "order-created", "order-cancelled", "order-changed", "storage-blocked"].forEach(function (type) {
    document.getElementById("my-account").addEventListener("myaccount:" + type, function (e) {
      var item = document.createElement("li");
      item.textContent = type + " " + JSON.stringify(e.detail);
      log.appendChild(item);
    });
  });
})();
