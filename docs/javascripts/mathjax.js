// MathJax 3 configuration for pymdownx.arithmatex (generic mode emits \( \) and \[ \] inside
// <span class="arithmatex">). Must load before the MathJax script itself (see mkdocs.yml).
window.MathJax = {
  tex: {
    inlineMath: [["\\(", "\\)"]],
    displayMath: [["\\[", "\\]"]],
    processEscapes: true,
    processEnvironments: true,
  },
  options: {
    ignoreHtmlClass: ".*|",
    processHtmlClass: "arithmatex",
  },
};

// MathJax typesets the first page itself. With Material's instant navigation (not enabled in
// mkdocs.yml today) later pages are swapped in without a reload: typeset those. Skipping the first
// emission avoids typesetting the initial page twice (which nests the assistive MathML).
if (typeof document$ !== "undefined") {
  let initial = true;
  document$.subscribe(() => {
    if (initial) {
      initial = false;
      return;
    }
    if (window.MathJax && window.MathJax.startup && window.MathJax.typesetPromise) {
      MathJax.startup.output.clearCache();
      MathJax.typesetClear();
      MathJax.texReset();
      MathJax.typesetPromise();
    }
  });
}
