// Survey builder: show only the fields of the chosen question kind; confirm deletions.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-question-form]").forEach(function (form) {
      var select = form.querySelector("[data-kind-select]");
      function sync() {
        var kind = select.value;
        form.querySelectorAll(".kind-fields").forEach(function (block) {
          var kinds = block.getAttribute("data-kinds").split(" ");
          block.hidden = kinds.indexOf(kind) < 0;
        });
      }
      if (select) { select.addEventListener("change", sync); sync(); }
    });
    document.querySelectorAll("[data-confirm-click]").forEach(function (button) {
      button.addEventListener("click", function (event) {
        if (!window.confirm(button.getAttribute("data-confirm-click"))) { event.preventDefault(); }
      });
    });
  });
})();
