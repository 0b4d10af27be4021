// The monthly progress grid (templates/projects/progress_grid.html) moves like a spreadsheet:
// Up/Down go to the same column of the project above/below (rows without fields, already approved
// ones, are skipped), Left/Right to the neighbouring cell of the row. In a text the arrows first
// move the caret: they leave the cell only from the edge of the text (or when it is all selected),
// so editing is as usual. Enter in a figure moves down (Shift+Enter up) instead of saving the page
// half-filled; after the last row it goes to the save buttons, where Enter saves. Enter in a text
// is a new line. Tab keeps the page's natural order.
(() => {
  "use strict";

  const CELL = "[data-grid-cell]";

  function rows(grid) {
    return Array.from(grid.querySelectorAll("[role=row]")).filter((row) => row.querySelector(CELL));
  }

  function allSelected(field) {
    return field.value.length > 0 && field.selectionStart === 0 && field.selectionEnd === field.value.length;
  }

  function atStart(field) {
    return !field.value || allSelected(field) || (field.selectionStart === 0 && field.selectionEnd === 0);
  }

  function atEnd(field) {
    const end = field.value.length;
    return !field.value || allSelected(field) || (field.selectionStart === end && field.selectionEnd === end);
  }

  function enter(field) {
    field.focus();
    // A figure is selected, so typing replaces it; a text keeps what was written, caret at its end.
    if (field.tagName === "TEXTAREA") field.setSelectionRange(field.value.length, field.value.length);
    else field.select();
  }

  function vertical(grid, field, step) {
    const all = rows(grid);
    const column = field.dataset.gridCell;
    let index = all.indexOf(field.closest("[role=row]")) + step;
    for (; index >= 0 && index < all.length; index += step) {
      const target = all[index].querySelector(`[data-grid-cell="${column}"]`);
      if (target) return target;
    }
    return null;
  }

  function horizontal(field, step) {
    const cells = Array.from(field.closest("[role=row]").querySelectorAll(CELL));
    return cells[cells.indexOf(field) + step] || null;
  }

  document.addEventListener("DOMContentLoaded", () => {
    const grid = document.querySelector("[data-grid]");
    if (!grid) return;
    const form = grid.closest("form");
    grid.addEventListener("keydown", (event) => {
      const field = event.target;
      if (!field.matches || !field.matches(CELL) || event.altKey || event.ctrlKey || event.metaKey) return;
      if (event.isComposing) return; // an input method (拼音) is choosing characters
      const text = field.tagName === "TEXTAREA";
      let target = null;
      let leave = false;
      if (event.key === "Enter" && !text) {
        leave = true;
        target = vertical(grid, field, event.shiftKey ? -1 : 1);
        if (!target && !event.shiftKey) target = form.querySelector(".grid-actions button");
      } else if (event.shiftKey) {
        return; // Shift+arrows select text
      } else if (event.key === "ArrowUp" && (!text || atStart(field))) {
        leave = true;
        target = vertical(grid, field, -1);
      } else if (event.key === "ArrowDown" && (!text || atEnd(field))) {
        leave = true;
        target = vertical(grid, field, 1);
      } else if (event.key === "ArrowLeft" && atStart(field)) {
        leave = true;
        target = horizontal(field, -1);
      } else if (event.key === "ArrowRight" && atEnd(field)) {
        leave = true;
        target = horizontal(field, 1);
      }
      if (!leave) return;
      event.preventDefault(); // also at the grid's edge: the key does nothing rather than save
      if (!target) return;
      if (target.matches(CELL)) enter(target);
      else target.focus();
    });
  });

  // What was typed is not lost by leaving the page unsaved (another page of the grid, another month,
  // a menu link): the browser asks first. Saving is leaving on purpose.
  const form = document.getElementById("progress-grid");
  if (form) {
    let changed = false;
    form.addEventListener("input", () => { changed = true; });
    form.addEventListener("submit", () => { changed = false; });
    window.addEventListener("beforeunload", (event) => {
      if (changed) event.preventDefault();
    });
  }
})();
