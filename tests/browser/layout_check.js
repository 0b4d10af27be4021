// What a narrow screen gets wrong (tests/browser/helpers.py, layout_problems): the page wider than
// the window (it scrolls sideways), a button whose label breaks over two lines (筛/选), or a short
// label broken one character a line (未/填/报).
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
    // A short label (a badge, a table's or the grid's column header) squeezed to one character a
    // line (未/填/报), which 200 % text does to a narrow column.
    for (const label of document.querySelectorAll(".badge, th, [role=columnheader]")) {
      const words = label.textContent.replace(/\s+/g, "");
      if (!shown(label) || words.length < 3 || words.length > 12) continue;
      // The lines its words take (a cell is as tall as its row): the tops of its text's boxes.
      const tops = new Set();
      const texts = document.createTreeWalker(label, NodeFilter.SHOW_TEXT);
      for (let node = texts.nextNode(); node; node = texts.nextNode()) {
        if (!node.textContent.trim()) continue;
        const range = document.createRange();
        range.selectNodeContents(node);
        for (const box of range.getClientRects()) if (box.width > 0) tops.add(Math.round(box.top));
      }
      const lines = tops.size;
      if (lines >= words.length) problems.push(`one character a line: ${name(label)} "${text(label)}"`);
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
