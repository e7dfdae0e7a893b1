// The flow page's header: rename and describe the flow in place.
// Click the name (or "Rename"), type, press Enter or leave the field to save; Escape cancels.
(() => {
  const csrf = () => document.querySelector('meta[name="csrf-token"]').content;

  function showError(box, message) {
    const error = box.querySelector(".flow-title-error");
    error.textContent = message || "";
    error.hidden = !message;
  }

  async function save(box, field, value) {
    const response = await fetch(box.dataset.url, {
      method: "PATCH", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() },
      body: JSON.stringify({ [field]: value }),
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error((body.error && body.error.message) || `Not saved (error ${response.status}).`);
    return body;
  }

  function show(target, field, flow) {
    const text = flow[field] || "";
    target.textContent = text || (field === "description" ? "Add a description" : "");
    target.classList.toggle("empty", !text);
    if (field === "name") document.title = `${text} · Switchboard`;
  }

  function startEditing(box, target) {
    if (box.querySelector(".inplace")) return;
    const field = target.dataset.field;
    const multiline = field === "description";
    const input = document.createElement(multiline ? "textarea" : "input");
    input.className = `inplace inplace-${field}`;
    input.value = target.classList.contains("empty") ? "" : target.textContent.trim();
    input.maxLength = Number(target.dataset.max);
    input.setAttribute("aria-label", target.dataset.label);
    if (multiline) input.rows = 3;
    target.hidden = true;
    target.after(input);
    input.focus();
    input.select();
    let done = false;
    const finish = (restoreFocus) => {
      done = true;
      input.remove();
      target.hidden = false;
      if (restoreFocus) target.focus();
    };
    const commit = async () => {
      if (done) return;
      const original = target.classList.contains("empty") ? "" : target.textContent.trim();
      if (input.value.trim() === original) { showError(box, ""); finish(false); return; }
      done = true;
      try {
        show(target, field, await save(box, field, input.value));
        showError(box, "");
        finish(false);
      } catch (err) {
        done = false;
        showError(box, err.message);
        input.focus();
      }
    };
    input.addEventListener("keydown", (event) => {
      if (event.key === "Escape") { event.preventDefault(); showError(box, ""); finish(true); }
      else if (event.key === "Enter" && !(multiline && event.shiftKey)) { event.preventDefault(); commit(); }
    });
    input.addEventListener("blur", () => { if (!box.querySelector(".flow-title-error:not([hidden])")) commit(); });
  }

  document.addEventListener("click", (event) => {
    const box = document.querySelector(".flow-title[data-editable]");
    if (!box) return;
    const button = event.target.closest("[data-edit]");
    const target = button ? box.querySelector(`[data-field="${button.dataset.edit}"]`)
      : event.target.closest(".flow-title[data-editable] [data-field]");
    if (target) startEditing(box, target);
  });

  document.addEventListener("keydown", (event) => {
    const target = event.target.closest && event.target.closest(".flow-title[data-editable] [data-field]");
    if (target && (event.key === "Enter" || event.key === " ")) {
      event.preventDefault();
      startEditing(target.closest(".flow-title"), target);
    }
  });
  // Archiving asks first through data-confirm, which app.js handles on every page.
})();
