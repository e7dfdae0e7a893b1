// Every rollback asks first. A form marked data-rollback (versions panel, old-version page) opens
// a dialog that says what rolling back will change compared with the current version — nodes
// that come back, go away or change, and connections — from the same server diff as the
// canvas's compare mode. Cancel does nothing; "Roll back to vN" submits the form as before.
// When the server says the version is the same as the current one, rolling back would publish
// nothing, so the dialog says so and offers only Close (the server would refuse to publish anyway).
// When it is not the same but nothing on the canvas differs (only the order of steps, the name…,
// the compare answer's `details_changed`), the dialog says that rolling back still publishes it.
(function () {
  "use strict";
  const SB = (window.Switchboard = window.Switchboard || {});
  const { el } = SB.forms;

  let dialog = null;

  function build() {
    dialog = el("dialog", { class: "canvas-dialog rollback-dialog", id: "rollback-dialog", "aria-labelledby": "rollback-title" },
      el("h2", { id: "rollback-title" }),
      el("p", { id: "rollback-intro" }),
      el("div", { id: "rollback-changes", "aria-live": "polite" }),
      el("div", { class: "dialog-actions" },
        el("button", { type: "button", id: "rollback-cancel", onclick: () => dialog.close() }, "Cancel"),
        el("button", { type: "button", class: "primary", id: "rollback-confirm" })));
    document.body.append(dialog);
    return dialog;
  }

  const names = (list) => list.map((n) => n.name).join(", ");

  // The diff from the current version to the one rolled back to, as sentences.
  function changeLines(diff) {
    const { count, shortValue } = SB.compare;
    const lines = [];
    if (diff.added.length) lines.push(["added", `${count(diff.added.length, "node")} come${diff.added.length === 1 ? "s" : ""} back: ${names(diff.added)}`]);
    if (diff.removed.length) lines.push(["removed", `${count(diff.removed.length, "node")} will be removed: ${names(diff.removed)}`]);
    diff.changed.forEach((node) => {
      const fields = node.fields.slice(0, 3).map((f) => `${f.title}: ${shortValue(f.before, 30)} → ${shortValue(f.after, 30)}`);
      const more = node.fields.length > 3 ? ` and ${node.fields.length - 3} more` : "";
      lines.push(["changed", `${node.name} changes: ${fields.join("; ")}${more}`]);
    });
    const added = diff.edges_added.length;
    const removed = diff.edges_removed.length;
    if (added || removed) lines.push(["connections", `Connections: ${added} added, ${removed} removed`]);
    return lines;
  }

  function showSame(diff) {
    const version = diff.to;
    dialog.querySelector("#rollback-title").textContent = `Version ${version} is the same as the current version`;
    dialog.querySelector("#rollback-intro").textContent = `Version ${version} is the same as the current version ` +
      `(v${diff.from}), so rolling back to it would publish nothing.`;
    dialog.querySelector("#rollback-changes").replaceChildren();
    dialog.querySelector("#rollback-confirm").hidden = true;
    dialog.querySelector("#rollback-cancel").textContent = "Close";
  }

  function showChanges(diff) {
    if (diff.same) {
      showSame(diff);
      return;
    }
    const box = dialog.querySelector("#rollback-changes");
    const lines = changeLines(diff);
    if (!lines.length) {
      const publishes = ` Rolling back publishes that as version ${diff.latest_version + 1}.`;
      box.replaceChildren(el("p", { class: "rollback-unseen", text: diff.moved.length
        ? "The nodes and connections are the same as the current version's; only positions differ." + publishes
        : `Nothing on the canvas changes; only how the flow is stored differs (${SB.compare.storedWords(diff.details_changed)}).` +
          publishes }));
      return;
    }
    box.replaceChildren(el("p", { class: "rollback-lead", text: `Compared with the current version (v${diff.from}):` }),
      el("ul", { class: "rollback-list" }, lines.map(([kind, text]) => el("li", { class: `rollback-${kind}`, text }))));
  }

  async function loadChanges(url) {
    const box = dialog.querySelector("#rollback-changes");
    box.replaceChildren(el("p", { class: "muted", text: "Working out what will change…" }));
    let result = null;
    try {
      const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
      result = { status: response.status, body: await response.json() };
    } catch (err) {
      result = { status: 0, body: null };
    }
    if (result.status === 200) showChanges(result.body);
    else {
      const message = (result.body && result.body.error && result.body.error.message) || "the server could not be reached";
      box.replaceChildren(el("p", { class: "field-error", text: `Could not list the changes (${message}). You can still roll back.` }));
    }
  }

  function ask(form) {
    if (!dialog) build();
    const version = form.dataset.version;
    const live = Number(form.dataset.live);
    dialog.querySelector("#rollback-title").textContent = `Roll back to version ${version}?`;
    dialog.querySelector("#rollback-intro").textContent = `Version ${version} will be published again as version ${live + 1} ` +
      "and run from then on. Trigger URLs and secrets stay the same; you can roll back again later." +
      (SB.canvas && SB.canvas.dirty ? " Your unsaved changes on the canvas will be lost." : "");
    const confirm = dialog.querySelector("#rollback-confirm");
    confirm.textContent = `Roll back to v${version}`;
    confirm.hidden = false;
    dialog.querySelector("#rollback-cancel").textContent = "Cancel";
    confirm.onclick = () => {
      dialog.close();
      if (SB.canvas) SB.canvas.leaving = true; // the rollback replaces the canvas; nothing to keep
      form.submit();
    };
    dialog.showModal();
    loadChanges(form.dataset.compareUrl);
  }

  document.addEventListener("submit", (e) => {
    const form = e.target.closest && e.target.closest("form[data-rollback]");
    if (!form) return;
    e.preventDefault();
    ask(form);
  });

  SB.rollback = { ask };
})();
