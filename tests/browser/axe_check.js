// Runs axe-core (static/vendor/axe-core/axe.min.js, injected by tests/browser/helpers.py,
// axe_violations) on the page with the WCAG 2.0 and 2.1 A and AA rules, and returns its violations
// shortened for a test's message: the rule, its impact and help text, and each element's selector
// and HTML. ``exclude``: selectors of elements not to check (see the caller for why).
async exclude => {
  const results = await axe.run({ exclude: exclude.map(selector => [selector]) }, {
    runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
    resultTypes: ["violations"],
  });
  const flat = target => target.map(part => (Array.isArray(part) ? part.join(" >>> ") : part)).join(" ");
  return results.violations.map(violation => ({
    id: violation.id,
    impact: violation.impact,
    help: violation.help,
    nodes: violation.nodes.map(node => ({
      target: flat(node.target),
      html: node.html.replace(/\s+/g, " ").slice(0, 160),
      summary: (node.failureSummary || "").replace(/\s+/g, " ").slice(0, 200),
    })),
  }));
}
