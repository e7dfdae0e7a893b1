// The side panel: what is selected (node form, connection, several items), a trigger's
// URL/examples/secret panel and the version history (both HTML fragments from the server).
(function () {
  "use strict";
  const SB = (window.Switchboard = window.Switchboard || {});
  const { el, clone } = SB.forms;

  let side = null;
  let shown = null; // {kind: "node", node, form, baseline} | {kind: "other"}

  const S = () => SB.canvas;

  function init() {
    side = document.getElementById("side-panel");
    side.dataset.emptyHtml = side.innerHTML;
    document.getElementById("btn-versions").addEventListener("click", showVersions);
  }

  function header(title, ...extra) {
    return el("div", { class: "side-head" }, el("h2", { text: title }), ...extra);
  }

  function closeButton() {
    return el("button", { type: "button", class: "icon side-close", title: "Close", "aria-label": "Close panel",
      onclick: () => { S().selection.clean(); showEmpty(); } }, "✕");
  }

  function showEmpty() {
    flush();
    shown = null;
    side.innerHTML = side.dataset.emptyHtml;
    side.dataset.showing = "";
  }

  // Live edits skip the undo history; when the user is done with a field (or leaves the
  // form) they are recorded as one undoable step, together with any port changes.
  function flush() {
    if (!shown || shown.kind !== "node" || !S().graph.hasCell(shown.node)) return;
    const node = shown.node;
    const after = clone(node.getData());
    const before = shown.baseline;
    if (JSON.stringify(after) === JSON.stringify(before)) return;
    const graph = S().graph;
    graph.startBatch("edit-node");
    node.setData(clone(before), { overwrite: true, silent: true });
    node.setData(after, { overwrite: true, fromForm: true });
    S().syncPorts(node, { fromForm: true, rewire: true });
    graph.stopBatch("edit-node");
    shown.baseline = clone(after);
  }

  function nodeData(node, config, name) {
    const data = { ...clone(node.getData()), config };
    if (name && name.trim()) data.name = name; else delete data.name;
    return data;
  }

  function showNode(node) {
    flush();
    const entry = S().entry(node.getData().type);
    const data = node.getData();
    const formBox = el("div", { class: "side-form" });
    const parts = [
      header(data.name || entry.title, closeButton()),
      el("p", { class: "side-meta" }, el("span", { class: `badge cat-${entry.category}`, text: entry.title })),
      el("p", { class: "side-desc small muted", text: entry.description }),
    ];
    const step = SB.run.stepDetails(node.id);
    if (step) parts.push(step);
    if (entry.is_trigger) parts.push(triggerSummary(node));
    parts.push(formBox);
    if (!S().readOnly) {
      parts.push(el("div", { class: "side-actions" },
        el("button", { type: "button", class: "danger", id: "btn-delete-node",
          onclick: () => { S().selection.reset(node); S().deleteSelection(); } }, "Delete node")));
    }
    side.replaceChildren(...parts);
    side.dataset.showing = `node:${node.id}`;
    const form = SB.forms.render(formBox, {
      schema: entry.config_schema, config: data.config || {}, name: data.name || "",
      namePlaceholder: entry.title, readOnly: S().readOnly, credentials: S().data.credentials || [],
      onInput: (config, name) => {
        node.setData(nodeData(node, config, name), { overwrite: true, skipHistory: true, fromForm: true });
        side.querySelector(".side-head h2").textContent = name || entry.title;
        if (S().triggerKind(data.type).scheduled) schedulePreview(node);
      },
      onCommit: () => flush(),
      checking: () => !!(SB.save && SB.save.checking()),
    });
    shown = { kind: "node", node, form, baseline: clone(node.getData()) };
    form.showProblems(S().problems.filter((p) => p.node_id === node.id));
  }

  // The schedule's next fires come from the server (POST /schedules/preview) so the browser
  // holds no scheduling rule; the previous fire and its run come with the saved trigger.
  function scheduleSummary(node) {
    const trigger = S().triggers[node.id];
    const info = (trigger && trigger.schedule) || null;
    const box = el("div", { class: "side-trigger side-schedule", "data-schedule": node.id });
    const off = S().data.schedule_off; // archived: no next fires to list, only why
    if (off) {
      box.append(el("p", { class: "urls-off small", "data-schedule-off": "", text: off }));
      if (info && info.summary) box.append(el("p", { class: "small", "data-schedule-policies": "", text: info.summary }));
      return box;
    }
    box.append(el("strong", { text: "Next fires" }), el("span", { class: "small muted", "data-schedule-zone": "" }),
      el("ol", { class: "schedule-next small", "data-schedule-next": "" }, el("li", { class: "muted", text: "Computing…" })),
      el("p", { class: "small", "data-schedule-policies": "" }));
    const last = el("p", { class: "small", "data-schedule-last": "" });
    if (!info) last.textContent = "Save the flow to arm this schedule.";
    else if (!info.last_fire) last.textContent = info.armed ? "Armed; it has not fired yet." : "Not armed (paused or ended).";
    else {
      const fire = info.last_fire;
      last.append(`Previous fire: ${fire.planned_label} — ${fire.outcome.replace("_", " ")}`);
      if (fire.run_id) {
        last.append(" ", el("a", { href: `/runs/${encodeURIComponent(fire.run_id)}`, target: "_blank",
          "data-schedule-run": fire.run_id, text: `run ${fire.run_id.slice(0, 8)}` }));
      }
    }
    box.append(last);
    schedulePreview(node, box);
    return box;
  }

  let previewTimer = null;
  let previewSeq = 0;
  function schedulePreview(node, box) {
    clearTimeout(previewTimer);
    previewTimer = setTimeout(async () => {
      const seq = ++previewSeq;
      const target = box || side.querySelector(`[data-schedule="${CSS.escape(node.id)}"]`);
      if (!target) return;
      const result = await S().api("POST", "/api/v1/schedules/preview", { config: node.getData().config || {} });
      if (seq !== previewSeq) return; // a newer edit asked again
      const list = target.querySelector("[data-schedule-next]");
      if (result.status !== 200) {
        list.replaceChildren(el("li", { class: "field-error", text: S().errorMessage(result) }));
        return;
      }
      const body = result.body;
      target.querySelector("[data-schedule-zone]").textContent = ` (${body.timezone})`;
      list.replaceChildren(...(body.next.length ? body.next.map((item) => el("li", { "data-at": item.at, "data-local": item.local, title: item.local, text: item.label }))
        : [el("li", { class: "muted", text: "No more fires (the end date has passed)." })]));
      target.querySelector("[data-schedule-policies]").textContent = body.summary;
    }, box ? 0 : 300);
  }

  function triggerSummary(node) {
    const trigger = S().triggers[node.id];
    const kind = S().triggerKind(node.getData().type); // the adapter's hints, from the palette
    if (kind.scheduled) return scheduleSummary(node);
    if (!trigger || !trigger.url) return el("div", { class: "side-trigger muted small" }, kind.save_hint || "");
    const off = S().data.urls_off; // archived: the URL answers "not found", so it is shown, not offered
    const buttons = [];
    if (kind.runs_here && !S().readOnly && !off) {
      buttons.push(el("button", { type: "button", class: "primary", onclick: () => SB.run.open(node.id) }, `▶ ${(node.getData().config || {}).label || "Run now"}`));
    }
    buttons.push(el("button", { type: "button", "data-action": "trigger-panel", onclick: () => showTrigger(node.id) },
      off ? "Details…" : kind.details_label || "Details…"));
    const model = kind.shows_model && trigger.model
      ? el("div", { class: "copyrow" }, el("span", { class: "muted small", text: "model" }),
        el("code", { "data-trigger-model": node.id, text: trigger.model }),
        off ? null : el("button", { type: "button", "data-copy": trigger.model }, "Copy model"))
      : null;
    return el("div", { class: "side-trigger" },
      off ? el("p", { class: "urls-off small", "data-urls-off": "", text: off }) : null,
      el("div", { class: "copyrow" }, el("code", { class: "url", "data-trigger-url": node.id, text: trigger.url }),
        off ? null : el("button", { type: "button", "data-copy": trigger.url }, kind.copy_label || "Copy URL")),
      model,
      el("div", { class: "side-actions" }, ...buttons));
  }

  function showEdge(edge) {
    flush();
    const name = (id) => {
      const node = S().graph.getCellById(id);
      return node ? (node.getData().name || S().entry(node.getData().type).title) : id;
    };
    const from = `${name(edge.getSourceCellId())} (${edge.getSourcePortId().replace(/^out:/, "")})`;
    side.replaceChildren(header("Connection", closeButton()),
      el("p", {}, "From ", el("strong", { text: from }), " to ", el("strong", { text: name(edge.getTargetCellId()) }), "."),
      el("p", { class: "small muted", text: "Runs continue along every connection that leaves the port a node took." }),
      S().readOnly ? "" : el("div", { class: "side-actions" },
        el("button", { type: "button", class: "danger", onclick: () => S().deleteSelection() }, "Delete connection")));
    side.dataset.showing = `edge:${edge.id}`;
    shown = { kind: "other" };
  }

  function showMany(cells) {
    flush();
    const nodes = cells.filter((c) => c.isNode()).length;
    side.replaceChildren(header(`${cells.length} items selected`, closeButton()),
      el("p", { class: "small muted", text: `${nodes} node(s), ${cells.length - nodes} connection(s). Drag one to move them all.` }),
      S().readOnly ? "" : el("div", { class: "side-actions" },
        el("button", { type: "button", onclick: () => S().copySelection() }, "Copy"),
        el("button", { type: "button", class: "danger", onclick: () => S().deleteSelection() }, "Delete")));
    side.dataset.showing = "many";
    shown = { kind: "other" };
  }

  function selectionChanged(cells) {
    if (cells.length === 1 && cells[0].isNode()) showNode(cells[0]);
    else if (cells.length === 1) showEdge(cells[0]);
    else if (cells.length > 1) showMany(cells);
    else if (shown && (shown.kind === "node" || side.dataset.showing === "many" || side.dataset.showing.startsWith("edge:"))) showEmpty();
  }

  // The node changed from elsewhere (undo, redo): redraw its form from the new data. No
  // flush here: recording the difference as a new edit would undo the undo.
  function nodeChanged(node) {
    if (shown && shown.kind === "node" && shown.node === node) {
      shown = null;
      showNode(node);
    }
  }

  // A save answered: the field being typed in stops holding back its problems.
  function settle() {
    if (shown && shown.kind === "node") shown.form.settle();
  }

  function problemsChanged() {
    if (shown && shown.kind === "node") shown.form.showProblems(S().problems.filter((p) => p.node_id === shown.node.id));
  }

  function refresh() {
    if (shown && shown.kind === "node" && S().graph.hasCell(shown.node)) showNode(shown.node);
  }

  // Server fragments (trigger panel, versions) use htmx for their own buttons.
  async function showFragment(url, title, showing, back) {
    flush();
    shown = { kind: "other" };
    side.dataset.showing = showing;
    const head = () => header(title, el("span", { class: "side-head-tools" }, back || "", closeButton()));
    side.replaceChildren(head(), el("p", { class: "muted", text: "Loading…" }));
    let html;
    try {
      const response = await fetch(url, { credentials: "same-origin", headers: { "HX-Request": "true" } });
      if (!response.ok) throw new Error(`The server answered ${response.status}.`);
      html = await response.text();
    } catch (err) {
      side.replaceChildren(head(), el("p", { class: "field-error", text: `Could not load this panel: ${err.message}` }));
      return;
    }
    if (side.dataset.showing !== showing) return; // the user moved on meanwhile
    const body = el("div", { class: "side-fragment" });
    body.innerHTML = html;
    side.replaceChildren(head(), body);
    if (window.htmx) window.htmx.process(body);
  }

  function showTrigger(nodeId) {
    const node = S().graph.getCellById(nodeId);
    const title = node ? (node.getData().name || S().entry(node.getData().type).title) : "Trigger";
    const back = node ? el("button", { type: "button", class: "icon", title: "Back to this node's settings",
      onclick: () => showNode(node) }, "← Settings") : null;
    return showFragment(S().data.urls.trigger_panel.replace("__NODE__", encodeURIComponent(nodeId)), title, `trigger:${nodeId}`, back);
  }

  function showVersions() {
    S().selection.clean();
    return showFragment(S().data.urls.versions_panel, "Version history", "versions");
  }

  SB.panel = { init, flush, settle, selectionChanged, nodeChanged, problemsChanged, refresh, showTrigger, showVersions, showEmpty };
})();
