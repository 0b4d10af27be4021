// A background job's page: poll its status and move the progress bar; reload when it has finished,
// so the page shows the download button or the error the server wrote.
document.addEventListener("DOMContentLoaded", () => {
  const box = document.getElementById("job");
  if (!box) return;
  const bar = document.getElementById("job-bar");
  const progress = document.getElementById("job-progress");
  const step = document.getElementById("job-step");
  const count = document.getElementById("job-count");
  const badge = document.getElementById("job-status");
  const POLL_MS = 1500;

  function show(percent) {
    // No count yet: a full striped bar that only moves.
    const known = percent !== null && percent !== "" && percent !== undefined;
    bar.classList.toggle("w-100", !known);
    bar.style.width = known ? `${percent}%` : "";
    progress.setAttribute("aria-valuenow", known ? String(percent) : "0");
  }

  show(box.dataset.percent);
  if (box.dataset.finished === "1") return;

  async function poll() {
    try {
      const response = await fetch(box.dataset.statusUrl, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      if (!response.ok) throw new Error(String(response.status));
      const job = await response.json();
      if (job.finished) {
        window.location.reload();
        return;
      }
      if (job.step) step.textContent = job.step;
      badge.textContent = job.status_label;
      count.textContent = job.total ? `${job.done} / ${job.total}${job.percent !== null ? ` (${job.percent}%)` : ""}` : "";
      show(job.percent);
    } catch (error) {
      // A network hiccup: try again at the next tick.
    }
    window.setTimeout(poll, POLL_MS);
  }
  window.setTimeout(poll, POLL_MS);
});
