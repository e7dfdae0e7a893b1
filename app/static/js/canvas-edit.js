// Editing commands shared by the toolbar, the keyboard and the side panel: delete, copy /
// paste, tidy up, undo / redo; the keyboard-shortcut help ("?") and quick add ("/").
(function () {
  "use strict";
  const SB = (window.Switchboard = window.Switchboard || {});
  const S = (SB.canvas = SB.canvas || {});

  // ---- editing actions ----------------------------------------------------------------

  S.deleteSelection = function () {
    const cells = S.selection.getSelectedCells();
    if (S.readOnly) return;
    if (!cells.length) { S.toast("Click a node or connection first, then delete it."); return; }
    S.graph.startBatch("delete");
    S.graph.removeCells(cells);
    S.graph.stopBatch("delete");
  };

  const CLIPBOARD_KEY = "switchboard.canvas.clipboard";
  let pasteCount = 0;

  S.copySelection = function () {
    const nodes = S.selection.getSelectedCells().filter((c) => c.isNode());
    if (!nodes.length) return false;
    const ids = new Set(nodes.map((n) => n.id));
    const doc = S.toDocument();
    const fragment = { nodes: doc.nodes.filter((n) => ids.has(n.id)),
      edges: doc.edges.filter((e) => ids.has(e.source) && ids.has(e.target)) };
    try { localStorage.setItem(CLIPBOARD_KEY, JSON.stringify(fragment)); } catch (err) { /* private mode */ }
    S.clipboard = fragment;
    pasteCount = 0;
    S.toast(`Copied ${nodes.length} node${nodes.length > 1 ? "s" : ""}.`);
    return true;
  };

  // Pasted nodes get new ids (and API triggers new keys); edges between them come along.
  S.paste = function () {
    let fragment = S.clipboard;
    try { fragment = JSON.parse(localStorage.getItem(CLIPBOARD_KEY)) || fragment; } catch (err) { /* keep memory copy */ }
    if (S.readOnly || !fragment || !fragment.nodes || !fragment.nodes.length) return;
    pasteCount += 1;
    const offset = 30 * pasteCount;
    const ids = {};
    const added = [];
    S.graph.startBatch("paste");
    for (const n of fragment.nodes) {
      const p = n.position || { x: 0, y: 0 };
      const node = S.graph.addNode(S.newNodeMetadata(n.type, { x: p.x + offset, y: p.y + offset }, n));
      ids[n.id] = node.id;
      added.push(node);
    }
    for (const e of fragment.edges || []) {
      added.push(S.graph.addEdge(S.edgeMetadata({ ...e, id: S.uniqueId("e"), source: ids[e.source], target: ids[e.target] })));
    }
    S.graph.stopBatch("paste");
    S.selection.reset(added);
  };

  // Layered layout: column = longest path from a node without incoming edges (triggers),
  // rows ordered by their predecessors to keep edges from crossing. Undoable as one step.
  S.tidy = function (options) {
    const graph = S.graph;
    const nodes = graph.getNodes();
    if (!nodes.length) return;
    const incoming = {};
    const outgoing = {};
    nodes.forEach((n) => { incoming[n.id] = []; outgoing[n.id] = []; });
    graph.getEdges().forEach((e) => {
      const s = e.getSourceCellId();
      const t = e.getTargetCellId();
      if (outgoing[s] && incoming[t] && s !== t) { outgoing[s].push(t); incoming[t].push(s); }
    });
    const depth = {};
    nodes.forEach((n) => { depth[n.id] = 0; });
    // Relax longest paths; the bound keeps a cycle from looping forever.
    for (let round = 0, changed = true; changed && round < nodes.length; round += 1) {
      changed = false;
      for (const n of nodes) {
        for (const t of outgoing[n.id]) {
          if (depth[t] < depth[n.id] + 1) { depth[t] = depth[n.id] + 1; changed = true; }
        }
      }
    }
    const columns = [];
    nodes.forEach((n) => { (columns[depth[n.id]] = columns[depth[n.id]] || []).push(n); });
    const rowOf = {};
    const heights = columns.map((column) => (column || []).reduce((sum, n) => sum + n.getSize().height + 32, -32));
    const tallest = Math.max(...heights);
    const opts = { ...(options || {}) };
    graph.startBatch("tidy");
    let x = 40;
    columns.forEach((column, c) => {
      if (!column) return;
      const key = (n) => {
        const preds = incoming[n.id].filter((id) => rowOf[id] !== undefined);
        return preds.length ? preds.reduce((s, id) => s + rowOf[id], 0) / preds.length : n.getPosition().y / 1000;
      };
      column.sort((a, b) => key(a) - key(b));
      let y = 40 + (tallest - heights[c]) / 2;
      column.forEach((n, r) => {
        rowOf[n.id] = r + (heights[c] < tallest ? 0.5 : 0);
        n.position(x, Math.round(y), opts);
        y += n.getSize().height + 32;
      });
      x += Math.max(...column.map((n) => n.getSize().width)) + 70;
    });
    graph.stopBatch("tidy");
    if (!opts.skipHistory) S.fit();
  };

  function updateHistoryButtons() {
    document.getElementById("btn-undo").disabled = !S.history.canUndo();
    document.getElementById("btn-redo").disabled = !S.history.canRedo();
  }

  // ---- toolbar and keyboard -----------------------------------------------------------

  function wireToolbar() {
    const on = (id, handler) => document.getElementById(id).addEventListener("click", handler);
    on("btn-undo", () => S.history.undo());
    on("btn-redo", () => S.history.redo());
    on("btn-copy", () => S.copySelection() || S.toast("Select one or more nodes to copy."));
    on("btn-paste", () => S.paste());
    on("btn-delete", () => S.deleteSelection());
    on("btn-tidy", () => S.tidy());
    on("btn-zoom-in", () => S.graph.zoom(0.1, { maxScale: 2.5 }));
    on("btn-zoom-out", () => S.graph.zoom(-0.1, { minScale: 0.2 }));
    on("btn-fit", () => S.fit());
    on("btn-help", () => showHelp());
    on("help-close", () => document.getElementById("help-dialog").close());
    updateHistoryButtons();
  }

  function typingIn(target) {
    return target && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
  }

  function showHelp() {
    const dialog = document.getElementById("help-dialog");
    if (!dialog.open) dialog.showModal(); // Escape closes a modal dialog by itself
  }

  // "?" and "/" work wherever the user is not typing, read-only canvases included for "?".
  function onHelpKeys(e) {
    if (e.ctrlKey || e.metaKey || e.altKey || typingIn(e.target) || document.querySelector("dialog[open]")) return false;
    if (e.key === "?") { e.preventDefault(); showHelp(); return true; }
    if (e.key === "/" && !S.readOnly) { e.preventDefault(); S.focusQuickAdd(); return true; }
    return false;
  }

  function onKeyDown(e) {
    if (document.querySelector("dialog[open]") || onHelpKeys(e)) return;
    const mod = e.ctrlKey || e.metaKey;
    const key = e.key.toLowerCase();
    if (mod && key === "s") { e.preventDefault(); if (!S.readOnly) SB.save.save(); return; }
    // Keys typed in the side panel (its fields and buttons) belong to the panel, not the canvas.
    if (S.readOnly || typingIn(e.target) || (e.target.closest && e.target.closest("#side-panel"))) return;
    if (key === "delete" || key === "backspace") {
      if (S.selection.getSelectedCellCount()) { e.preventDefault(); S.deleteSelection(); }
    } else if (mod && key === "z") {
      e.preventDefault();
      if (e.shiftKey) S.history.redo(); else S.history.undo();
    } else if (mod && key === "y") {
      e.preventDefault(); S.history.redo();
    } else if (mod && key === "c") {
      // Let the browser copy selected page text; otherwise copy the selected nodes.
      if (String(window.getSelection() || "") === "" && S.copySelection()) e.preventDefault();
    } else if (mod && key === "v") {
      e.preventDefault(); S.paste();
    } else if (mod && key === "a") {
      e.preventDefault(); S.selection.reset(S.graph.getNodes());
    }
  }

  S.wireEditing = function () {
    wireToolbar();
    S.graph.on("history:change", updateHistoryButtons);
    document.addEventListener("keydown", onKeyDown);
  };
})();
