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
