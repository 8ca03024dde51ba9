// The admin console's progressive enhancement: every page works without it.
// 1. Dynamic data mappings: the 5 text + 3 other limit as one picks (the server checks again).
// 2. The card preview: drawn with the Adaptive Cards renderer shipped beside this file.
(function () {
  "use strict";

  function enforceLimit(fieldset) {
    var maxText = Number(fieldset.getAttribute("data-max-text"));
    var maxOther = Number(fieldset.getAttribute("data-max-other"));
    var template = fieldset.getAttribute("data-template");
    var full = fieldset.getAttribute("data-full");
    var count = fieldset.querySelector(".count");
    var boxes = Array.prototype.slice.call(fieldset.querySelectorAll("input[type=checkbox]"));

    function update() {
      var text = 0, other = 0;
      boxes.forEach(function (box) {
        if (box.checked) { if (box.getAttribute("data-text") === "1") { text++; } else { other++; } }
      });
      boxes.forEach(function (box) {
        var isText = box.getAttribute("data-text") === "1";
        var reached = isText ? text >= maxText : other >= maxOther;
        box.disabled = !box.checked && reached;
        box.title = box.disabled ? full : "";
      });
      if (count) {
        count.textContent = template
          .replace("{text}", text).replace("{max_text}", maxText)
          .replace("{other}", other).replace("{max_other}", maxOther);
      }
    }
    boxes.forEach(function (box) { box.addEventListener("change", update); });
    update();
  }

  function drawCard(target) {
    if (!window.AdaptiveCards) { return; }
    var card = new window.AdaptiveCards.AdaptiveCard();
    card.hostConfig = new window.AdaptiveCards.HostConfig({
      fontFamily: "'Segoe UI', system-ui, sans-serif",
      supportsInteractivity: true
    });
    card.onExecuteAction = function () { /* a preview: buttons do nothing */ };
    card.parse(JSON.parse(target.getAttribute("data-card")));
    var rendered = card.render();
    if (rendered) {
      target.textContent = "";
      target.appendChild(rendered);
      target.setAttribute("data-rendered", "true");
    }
  }

  document.querySelectorAll("fieldset[data-limit]").forEach(enforceLimit);
  var preview = document.getElementById("card-preview");
  if (preview && preview.getAttribute("data-card")) { drawCard(preview); }
})();
