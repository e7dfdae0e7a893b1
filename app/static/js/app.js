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
