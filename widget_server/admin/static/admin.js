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

// Live preview (P-9): the Global tab's look follows the form before it is saved.
(function () {
  var frame = document.querySelector("iframe[data-preview-base]");
  if (!frame) return;
  var keys = ["theme", "primary_color", "text_color", "background_color", "font"];
  var timer = null;
  function refresh() {
    var url = new URL(frame.getAttribute("data-preview-base"), window.location.href);
    keys.forEach(function (key) {
      var input = document.querySelector('[name="' + key + '"]');
      if (input && input.value) url.searchParams.set(key, input.value);
    });
    frame.src = url.pathname + url.search;
  }
  keys.forEach(function (key) {
    var input = document.querySelector('[name="' + key + '"]');
    if (!input) return;
    ["input", "change"].forEach(function (type) {
      input.addEventListener(type, function () {
        clearTimeout(timer);
        timer = setTimeout(refresh, 250);
      });
    });
  });
})();

// Token picker: insert a token at the cursor of the body.
document.querySelectorAll("[data-insert]").forEach(function (button) {
  button.addEventListener("click", function () {
    var target = document.querySelector(button.getAttribute("data-insert-into"));
    var token = button.getAttribute("data-insert");
    var start = target.selectionStart || 0, end = target.selectionEnd || 0;
    target.value = target.value.slice(0, start) + token + target.value.slice(end);
    target.focus();
    target.selectionStart = target.selectionEnd = start + token.length;
  });
});

// "Select all" checkboxes.
document.querySelectorAll("[data-select-all]").forEach(function (all) {
  all.addEventListener("change", function () {
    document.querySelectorAll(all.getAttribute("data-select-all")).forEach(function (box) {
      box.checked = all.checked;
    });
  });
});

// The preview sizes itself like the real widget (issue #20-9): the widget page reports its
// height (widget.js) and the frame follows it, so nothing is clipped and nothing scrolls
// inside. Only messages from the preview frame, from this very origin, are taken.
(function () {
  var frames = document.querySelectorAll("iframe.preview");
  if (!frames.length) return;
  window.addEventListener("message", function (e) {
    var m = e.data;
    if (e.origin !== window.location.origin || !m || m.source !== "my-account" ||
        m.type !== "resize" || !m.detail) return;
    frames.forEach(function (frame) {
      if (e.source !== frame.contentWindow) return;
      var h = Math.round(Number(m.detail.height));
      if (isFinite(h)) frame.style.height = Math.min(Math.max(h, 120), 20000) + "px";
    });
  });
})();
