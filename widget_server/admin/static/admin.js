// Progressive enhancement for the admin: copy buttons. Everything works without it.
document.querySelectorAll("[data-copy]").forEach(function (button) {
  if (!navigator.clipboard) return;
  button.hidden = false;
  button.addEventListener("click", function () {
    var source = document.querySelector(button.getAttribute("data-copy"));
    var status = button.parentElement.querySelector("[data-copy-status]");
    navigator.clipboard.writeText(source.textContent).then(function () {
      if (status) status.textContent = "Copied.";
    }, function () {
      if (status) status.textContent = "Copy failed: select the text and copy it by hand.";
    });
  });
});
