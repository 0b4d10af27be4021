// Small behaviours for every page. No inline scripts: the pages stay CSP-friendly.
document.addEventListener("DOMContentLoaded", () => {
  // A header checkbox that ticks every box of the same name.
  document.querySelectorAll("[data-check-all]").forEach((master) => {
    const name = master.getAttribute("data-check-all");
    master.addEventListener("change", () => {
      document.querySelectorAll(`input[type=checkbox][name="${name}"]`).forEach((box) => {
        box.checked = master.checked;
      });
    });
  });
  // Bring the first row with an error into view after a refused save.
  const firstError = document.querySelector(".grid-row.border-danger");
  if (firstError) firstError.scrollIntoView({ block: "center" });
});

// The menu's counts come from /badges/ after the page has loaded: no page waits for them.
document.addEventListener("DOMContentLoaded", () => {
  const badges = document.querySelectorAll("[data-badge]");
  const source = document.body.getAttribute("data-badges-url");
  if (!badges.length || !source) return;
  fetch(source, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then((response) => (response.ok ? response.json() : {}))
    .then((counts) => {
      badges.forEach((badge) => {
        const count = counts[badge.getAttribute("data-badge")];
        if (count) {
          badge.textContent = count;
          badge.hidden = false;
        }
      });
    })
    .catch(() => {});
});

// Keyboard (issue 22): a part that opens in place (an action's form on the ticket page, more
// filters, the phone's menu) takes the focus to its first field once open, and Escape inside it
// closes it and gives the focus back to the button that opened it. Tom Select's Escape closes its
// own list first (it stops the event).
document.addEventListener("DOMContentLoaded", () => {
  if (!window.bootstrap || !window.bootstrap.Collapse) return;
  const togglesOf = (part) =>
    Array.from(document.querySelectorAll("[data-bs-toggle=collapse]")).filter(
      (toggle) => toggle.getAttribute("data-bs-target") === `#${part.id}`,
    );
  const FIELD = "input:not([type=hidden]), select, textarea, button, a[href]";
  // Only when opened from the keyboard (a click made by Enter or Space has no click count): a mouse
  // user's next click may be on a searchable select, which a focus would already have opened.
  let byKeyboard = false;
  document.addEventListener(
    "click",
    (event) => {
      if (event.target.closest && event.target.closest("[data-bs-toggle=collapse]")) byKeyboard = event.detail === 0;
    },
    true, // before Bootstrap's own handler, which may open the part at once
  );
  document.addEventListener("shown.bs.collapse", (event) => {
    const part = event.target;
    if (part.classList.contains("navbar-collapse") || !togglesOf(part).includes(document.activeElement)) return;
    if (!byKeyboard) return;
    const first = Array.from(part.querySelectorAll(FIELD)).find(
      (field) => !field.disabled && field.tabIndex >= 0 && field.getClientRects().length > 0,
    );
    if (first) first.focus();
  });
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || event.defaultPrevented) return;
    const part = event.target.closest && event.target.closest(".collapse.show");
    if (!part || !part.id) return;
    const toggle = togglesOf(part).find((button) => button.getClientRects().length > 0);
    window.bootstrap.Collapse.getOrCreateInstance(part, { toggle: false }).hide();
    if (toggle) toggle.focus();
  });
});
