// A handler select offers only the people of the unit chosen in the same form.
// <select data-unit-from="id of the unit select">, each option with data-unit="unit id".
// Options are taken out and put back rather than hidden: Safari ignores `hidden` on options.
// Without this script every handler is listed; the server refuses one of another unit.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("select[data-unit-from]").forEach((handlers) => {
    const unit = document.getElementById(handlers.getAttribute("data-unit-from"));
    if (!unit) return;
    const all = Array.from(handlers.options);
    const follow = () => {
      const chosen = unit.value;
      const keep = all.filter((option) => !option.value || (chosen && option.dataset.unit === chosen));
      const selected = handlers.value;
      handlers.replaceChildren(...keep);
      handlers.value = keep.some((option) => option.value === selected) ? selected : "";
      handlers.disabled = !chosen;
    };
    unit.addEventListener("change", follow);
    follow();
  });
});
