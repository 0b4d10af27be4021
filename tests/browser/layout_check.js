// What a narrow screen gets wrong (tests/browser/helpers.py, layout_problems): the page wider than
// the window (it scrolls sideways), or a button whose label breaks over two lines (筛/选).
// Measured once the fonts are in, since the icon font changes a button's width; the elements that
// stick out are named, outermost first. ``unfold``: then open what the page keeps folded (filter
// panels, action forms, <details>) and measure again.
async unfold => {
  await document.fonts.ready;
  const width = document.documentElement.clientWidth;
  const shown = el => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden";
  const name = el => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
    + (typeof el.className === "string" && el.className.trim() ? "." + el.className.trim().split(/\s+/).join(".") : "");
  const text = el => el.textContent.trim().replace(/\s+/g, " ").slice(0, 40);
  const check = () => {
    const problems = [];
    const scrollWidth = document.documentElement.scrollWidth;
    if (scrollWidth > width + 1) {
      const wide = [...document.body.querySelectorAll("*")].filter(el => shown(el) && el.getBoundingClientRect().right > width + 1);
      const outermost = wide.filter(el => !wide.includes(el.parentElement)).slice(0, 5);
      problems.push(`scrolls sideways: ${scrollWidth}px in ${width}px; ` + outermost.map(el => `${name(el)} "${text(el)}" to ${Math.round(el.getBoundingClientRect().right)}px`).join("; "));
    }
    for (const button of document.querySelectorAll(".btn")) {
      if (!shown(button)) continue;
      const style = getComputedStyle(button);
      const line = parseFloat(style.lineHeight) || parseFloat(style.fontSize) * 1.5;
      const content = button.clientHeight - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom);
      if (content > line * 1.5) problems.push(`button on ${Math.round(content / line)} lines: ${name(button)} "${text(button)}"`);
    }
    return problems;
  };
  const problems = check();
  if (unfold) {
    document.querySelectorAll(".collapse:not(.navbar-collapse)").forEach(el => el.classList.add("show"));
    document.querySelectorAll("details").forEach(el => { el.open = true; });
    problems.push(...check().filter(problem => !problems.includes(problem)).map(problem => `unfolded: ${problem}`));
  }
  return problems;
}
