// Copy buttons: any element with data-copy puts that text on the clipboard and says so.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const label = button.textContent;
  try {
    await navigator.clipboard.writeText(button.dataset.copy);
    button.textContent = "Copied";
  } catch (err) {
    window.prompt("Copy this:", button.dataset.copy);
  }
  setTimeout(() => { button.textContent = label; }, 1500);
});

// After the canvas publishes, the page header shows the live version (the sections reload via htmx).
document.addEventListener("canvas:saved", (event) => {
  const badge = document.getElementById("version-badge");
  const version = event.detail && event.detail.version;
  if (!version) return;
  if (badge) badge.textContent = `v${version}`;
  // The header's export link downloads the live version, so it follows the save too.
  const exported = document.querySelector("a[data-export-latest]");
  if (exported) {
    exported.href = exported.href.replace(/\/versions\/\d+\/export$/, `/versions/${version}/export`);
    exported.textContent = `Export v${version}`;
  }
});

// Forms that need a second thought: <form data-confirm="Delete this?"> asks before it submits.
// (Inline onsubmit handlers are not allowed by the Content-Security-Policy; this replaces them.)
document.addEventListener("submit", (event) => {
  const question = event.target.dataset && event.target.dataset.confirm;
  if (question && !window.confirm(question)) event.preventDefault();
}, true);

// A <select data-autosubmit> submits its form when changed (the workspace switcher).
document.addEventListener("change", (event) => {
  const field = event.target.closest("[data-autosubmit]");
  if (field && field.form) field.form.requestSubmit();
});

// Server-drawn geometry: <div data-left="12.5" data-width="30"> (percent of its positioned parent).
// Set through the CSSOM, which the Content-Security-Policy allows, because a style="" attribute
// in the HTML is refused. Runs on load and after every htmx swap (the run timeline polls itself).
function applyGeometry() {
  document.querySelectorAll("[data-left], [data-width]").forEach((box) => {
    for (const side of ["left", "width"]) {
      const value = parseFloat(box.dataset[side]);
      if (Number.isFinite(value)) box.style[side] = `${value}%`;
    }
  });
}
document.addEventListener("DOMContentLoaded", applyGeometry);
document.addEventListener("htmx:afterSwap", applyGeometry);
document.addEventListener("htmx:load", applyGeometry);

// A running run's page swaps its whole panel every second (htmx polling): a fold a person opened
// or closed (<details data-keep-open="name">) stays as they left it in the new panel.
const keptFolds = new Map();
document.addEventListener("htmx:beforeSwap", (event) => {
  const old = event.detail.target;
  if (!old || !old.querySelectorAll) return;
  old.querySelectorAll("details[data-keep-open]").forEach((fold) => keptFolds.set(fold.dataset.keepOpen, fold.open));
});
function restoreFolds() {
  if (!keptFolds.size) return;
  document.querySelectorAll("details[data-keep-open]").forEach((fold) => {
    const open = keptFolds.get(fold.dataset.keepOpen);
    if (open !== undefined && fold.open !== open) fold.open = open;
  });
}
document.addEventListener("htmx:afterSwap", restoreFolds);
