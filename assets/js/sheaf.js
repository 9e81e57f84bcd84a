// Sheaf's page behaviour. Loaded as a file: the Content-Security-Policy allows no inline script.
(function () {
  "use strict";

  // Ask before destructive actions (buttons with data-confirm).
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-confirm]");
    if (button && !window.confirm(button.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });

  // Copy buttons (data-copy names the element whose text to copy).
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (source && navigator.clipboard) {
      navigator.clipboard.writeText(source.textContent.trim()).then(function () {
        button.textContent = "Copied";
      });
    }
  });

  // Idle lock: after the configured time without input, go to the lock page (the server also
  // refuses the next request, so this only hides the screen sooner). While the person is
  // active, tell the server at most once a minute, so that reading a page is not "idle".
  var body = document.body;
  var idleSeconds = parseInt(body.getAttribute("data-idle-seconds") || "0", 10);
  if (idleSeconds > 0) {
    var lockUrl = body.getAttribute("data-lock-url");
    var aliveUrl = body.getAttribute("data-alive-url");
    var token = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
    var lastInput = Date.now();
    var lastPing = Date.now();
    var onInput = function () {
      lastInput = Date.now();
      if (lastInput - lastPing > 60000) {
        lastPing = lastInput;
        fetch(aliveUrl, { method: "POST", headers: { "X-CSRFToken": token }, credentials: "same-origin" });
      }
    };
    ["keydown", "mousedown", "mousemove", "wheel", "touchstart"].forEach(function (name) {
      document.addEventListener(name, onInput, { passive: true });
    });
    window.setInterval(function () {
      if (Date.now() - lastInput > idleSeconds * 1000) {
        var here = window.location.pathname + window.location.search;
        window.location.assign(lockUrl + "?next=" + encodeURIComponent(here));
      }
    }, 5000);
  }
})();
