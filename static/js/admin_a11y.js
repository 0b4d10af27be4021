// Names for the controls Django's admin renders without one (issue 22; WCAG 1.3.1 and 4.1.2), so a
// screen reader says what a field is. Django's own templates and scripts leave unnamed: the fields of
// a tabular inline (one column heading above many rows), the date and time halves of a date-time
// field, the Select2 boxes of autocomplete fields, and the filter boxes' help icons (a <span> with an
// aria-label but no role). Loaded on every admin page (templates/admin/base_site.html); it runs again
// whenever the page changes, since inline rows, Select2 and the filter boxes are added by script.
"use strict";
(function () {
  const clean = (words) => words.replace(/\s+/g, " ").replace(/[:：?？]\s*$/, "").trim();
  const text = (element) => (element ? clean(element.textContent) : "");
  // An element's own words, without those of its children (a heading's help icon, a link).
  const ownText = (element) => clean([...element.childNodes].filter((node) => node.nodeType === Node.TEXT_NODE).map((node) => node.textContent).join(" "));

  function named(control) {
    return (control.labels && control.labels.length) || control.getAttribute("aria-label") || control.getAttribute("aria-labelledby");
  }

  // A tabular inline's cell: its column's heading, and the row's object when there is one.
  function inlineName(cell) {
    const table = cell.closest("table");
    let heading = null;
    const column = [...cell.classList].find((name) => name.startsWith("field-"));
    if (column) heading = table.querySelector(`thead th.column-${column.slice(6)}`);
    else if (cell.classList.contains("delete")) heading = table.querySelector("thead th:last-child");
    if (!heading) return "";
    const label = ownText(heading);
    const original = cell.parentElement.querySelector("td.original p");
    const row = original ? ownText(original) : "";
    return row ? `${label} (${row})` : label;
  }

  // The date or time half of a date-time field: the field's label and the half's own word (日期, 时间).
  function dateTimeName(input) {
    const field = input.closest(".flex-container, .form-row");
    const label = field ? text(field.querySelector("label")) : "";
    let before = input.previousSibling;
    while (before && before.nodeType !== Node.TEXT_NODE) before = before.previousSibling;
    const half = text(before);
    return [label, half].filter(Boolean).join(" ");
  }

  function nameControl(control, name) {
    if (name && !named(control)) control.setAttribute("aria-label", name);
  }

  function nameAll() {
    document.querySelectorAll(".tabular td input:not([type=hidden]), .tabular td select, .tabular td textarea").forEach((control) => {
      nameControl(control, inlineName(control.closest("td")));
    });
    document.querySelectorAll("p.datetime input.vDateField, p.datetime input.vTimeField").forEach((control) => {
      nameControl(control, dateTimeName(control));
    });
    // Select2 names its box after the chosen text only (empty until something is chosen).
    document.querySelectorAll(".select2-container").forEach((container) => {
      const select = container.previousElementSibling;
      if (!select || select.tagName !== "SELECT") return;
      const label = select.labels && select.labels[0];
      const cell = container.closest(".tabular td");
      container.querySelectorAll("[role=combobox], [role=textbox]").forEach((box) => {
        if (box.dataset.named) return;
        box.dataset.named = "1";
        if (label) {
          if (!label.id) label.id = `${select.id}-label`;
          const own = box.getAttribute("aria-labelledby");
          box.setAttribute("aria-labelledby", own && box.getAttribute("role") === "combobox" ? `${label.id} ${own}` : label.id);
        } else if (cell) {
          box.removeAttribute("aria-labelledby");
          box.setAttribute("aria-label", inlineName(cell));
        }
      });
    });
    document.querySelectorAll("span.help-tooltip[aria-label]:not([role])").forEach((icon) => icon.setAttribute("role", "img"));
  }

  let queued = false;
  function soon() {
    if (queued) return;
    queued = true;
    queueMicrotask(() => {
      queued = false;
      nameAll();
    });
  }
  document.addEventListener("DOMContentLoaded", () => {
    nameAll();
    new MutationObserver(soon).observe(document.body, { childList: true, subtree: true });
  });
})();
