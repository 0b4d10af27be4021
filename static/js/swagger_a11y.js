// The API documentation's Swagger UI (drf-spectacular's bundle) leaves a parameter's list box (an
// enum's values, a multiple <select>) without a name, and an example too wide for a phone scrolling
// out of the keyboard's reach: the box is named after its parameter and the example takes the focus
// (to scroll it with the arrow keys), as Swagger UI adds and redraws them (axe; issue 22).
"use strict";
(function () {
  function nameFields(root) {
    for (const field of root.querySelectorAll("tr[data-param-name] select:not([aria-label]), tr[data-param-name] input:not([aria-label])")) {
      const row = field.closest("tr[data-param-name]");
      field.setAttribute("aria-label", row.getAttribute("data-param-name"));
    }
    for (const example of root.querySelectorAll(".highlight-code pre:not([tabindex])")) example.setAttribute("tabindex", "0");
  }
  new MutationObserver(() => nameFields(document)).observe(document.documentElement, { childList: true, subtree: true });
})();
