/* Stripe mode of the pay pages: Stripe's Payment Element takes a new card or bank account in
   Stripe's own frames, and on submit Stripe.js turns it into a pm_… id, which is all this
   server receives (PCI SAQ A). The charge itself is confirmed on the server. */
(function () {
  "use strict";
  var box = document.getElementById("payment-element");
  if (!box || !window.Stripe) return;
  var form = box.closest("form"), problem = document.getElementById("payment-element-error");
  var options = box.getAttribute("data-stripe-account")
    ? { stripeAccount: box.getAttribute("data-stripe-account") } : {};
  var stripe = window.Stripe(box.getAttribute("data-stripe-key"), options);
  var elements = stripe.elements({
    locale: document.documentElement.lang || "auto",  // the widget's language, not the browser's
    mode: "payment", paymentMethodCreation: "manual",
    amount: parseInt(box.getAttribute("data-amount"), 10),
    currency: box.getAttribute("data-currency"),
    paymentMethodTypes: box.getAttribute("data-methods").split(" ")
  });
  elements.create("payment").mount(box);

  function show(message) {
    problem.textContent = message;
    problem.hidden = false;
  }

  form.addEventListener("submit", function (e) {
    var chosen = form.querySelector('input[name="method"]:checked');
    if (!chosen || chosen.value !== "new" || form.getAttribute("data-pm")) return;
    e.preventDefault();
    e.stopImmediatePropagation();
    problem.hidden = true;
    elements.submit().then(function (result) {
      if (result.error) throw result.error;
      return stripe.createPaymentMethod({ elements: elements });
    }).then(function (result) {
      if (result.error) throw result.error;
      form.querySelector('input[name="payment_method_id"]').value = result.paymentMethod.id;
      form.setAttribute("data-pm", "1");
      if (form.requestSubmit) form.requestSubmit(); else form.submit();
    }).catch(function (error) {
      show(error.message || box.getAttribute("data-unchecked")
        || "The payment details could not be checked. Please try again.");
    });
  }, true);
})();
