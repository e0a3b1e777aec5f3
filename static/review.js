// Override form helper: shows the running total of area hours against the course hours.
(function () {
  var fieldset = document.querySelector("fieldset.hours");
  if (!fieldset) return;
  var total = parseFloat(fieldset.getAttribute("data-total"));
  var out = fieldset.querySelector(".hours-sum");
  var inputs = fieldset.querySelectorAll("input[type=number]");
  function update() {
    var sum = 0;
    inputs.forEach(function (input) {
      var v = parseFloat(input.value);
      if (!isNaN(v)) sum += v;
    });
    sum = Math.round(sum * 100) / 100;
    out.textContent = "Area hours: " + sum + " of " + total + (sum === total ? " ✓" : " — they must add up to " + total);
    out.className = "hint hours-sum " + (sum === total ? "good" : "bad");
  }
  inputs.forEach(function (input) { input.addEventListener("input", update); });
  update();
})();
