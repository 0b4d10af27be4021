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
