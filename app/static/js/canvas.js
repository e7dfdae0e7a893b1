// The canvas editor: an X6 graph that edits a flow document (docs/flow-format.md).
// The graph is the single source of truth while editing; toDocument() turns it back into
// the JSON the server validates and publishes. Node ids = X6 cell ids, edge ids likewise.
// Other files: canvas-forms.js (config forms), canvas-nodes.js (node looks and ports),
// canvas-summary.js (what each node does, its subtitle), canvas-palette.js (palette, quick add),
// canvas-view.js (legible fit, minimap toggle), canvas-edit.js (commands, toolbar, keyboard, help),
// canvas-panel.js (side panel), canvas-save.js (save, problems, secrets), canvas-run.js (run now +
// live run status), canvas-test.js (test the unsaved canvas as a draft), canvas-picker.js and
// canvas-values.js (the value picker), canvas-compare.js and canvas-rollback.js (versions).
(function () {
  "use strict";
  const SB = (window.Switchboard = window.Switchboard || {});
  const { el, clone } = SB.forms;

  const S = (SB.canvas = Object.assign(SB.canvas || {}, {
    data: null, graph: null, palette: {}, readOnly: false, latestVersion: 0,
    triggers: {}, // node_id -> trigger dict from the server (URL etc.), for saved triggers
    problems: [], // current validation problems (server format)
    savedJSON: "", // the document as last loaded / saved, to know whether there are changes
    dirty: false,
  }));

  // ---- server calls -------------------------------------------------------------------

  S.csrf = () => (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  // JSON in, {status, body} out; network failures become status 0 with a readable message.
  S.api = async function (method, url, body) {
    const init = { method, headers: { Accept: "application/json" }, credentials: "same-origin" };
    if (method !== "GET") {
      init.headers["Content-Type"] = "application/json";
      init.headers["X-CSRFToken"] = S.csrf();
      init.body = JSON.stringify(body === undefined ? {} : body);
    }
    try {
      const response = await fetch(url, init);
      let json = null;
      try { json = await response.json(); } catch (err) { json = null; }
      return { status: response.status, body: json };
    } catch (err) {
      return { status: 0, body: { error: { message: "The server could not be reached. Check your connection and try again." } } };
    }
  };

  S.errorMessage = (result) =>
    (result.body && result.body.error && result.body.error.message) || `The server answered ${result.status}.`;

  let toastTimer = null;
  S.toast = function (message, kind) {
    const box = document.getElementById("canvas-toast");
    box.textContent = message;
    box.className = `canvas-toast ${kind || ""}`;
    box.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { box.hidden = true; }, kind === "error" ? 8000 : 3500);
  };

  // ---- document <-> graph -------------------------------------------------------------

  S.toDocument = function () {
    const base = S.data.document || {};
    const doc = { schema_version: 1, name: base.name || S.data.flow.name };
    if (base.description) doc.description = base.description;
    doc.nodes = S.graph.getNodes().map((node) => {
      const data = node.getData() || {};
      const out = { id: node.id, type: data.type };
      if (data.type_version !== undefined) out.type_version = data.type_version;
      if (data.name) out.name = data.name;
      out.config = clone(data.config || {});
      const p = node.getPosition();
      out.position = { x: Math.round(p.x), y: Math.round(p.y) };
      return out;
    });
    // Edges still being drawn have no target node yet; they are not part of the flow.
    doc.edges = S.graph.getEdges().filter((e) => e.getSourceCellId() && e.getTargetCellId()).map((edge) => ({
      id: edge.id, source: edge.getSourceCellId(), source_port: S.portName(edge.getSourcePortId()),
      target: edge.getTargetCellId(), target_port: S.portName(edge.getTargetPortId()),
    }));
    return doc;
  };

  // All cells in one resetCells, their looks set before they are drawn: one render pass
  // instead of one per node and another per refresh (see BENCHMARKS.md, "Canvas, 200 nodes").
  function load(doc) {
    const graph = S.graph;
    S.history.disable();
    const nodes = (doc.nodes || []).map((n) => graph.createNode(S.nodeMetadata(n)));
    nodes.forEach((n) => S.refreshNode(n));
    S.loading = true;
    const ids = new Set(nodes.map((n) => n.id));
    const edges = (doc.edges || []).filter((e) => ids.has(e.source) && ids.has(e.target))
      .map((e) => graph.createEdge(S.edgeMetadata(e)));
    graph.resetCells(nodes.concat(edges));
    S.loading = false;
    // Documents made elsewhere (API, CLI) may lack positions or crowd nodes drawn at this size.
    graph.getNodes().forEach((n) => S.syncPorts(n)); // shows ports that edges use but the type lacks
    const raw = doc.nodes || [];
    if (raw.length && (raw.some((n) => !n.position) || overlapping(graph.getNodes()))) S.tidy({ skipHistory: true });
    S.history.enable();
    S.history.clean();
    graph.getEdges().forEach(S.refreshEdge);
    S.markSaved();
  }

  function overlapping(nodes) {
    const boxes = nodes.map((n) => n.getBBox());
    return boxes.some((a, i) => boxes.slice(i + 1).some((b) => a.isIntersectWithRect(b)));
  }

  // A node's readable name: the name people gave it, else its type's title (never its id).
  S.displayName = function (nodeId) {
    const node = nodeId && S.graph && S.graph.getCellById(nodeId);
    if (!node || !node.isNode()) return nodeId || "";
    const data = node.getData() || {};
    return data.name || S.entry(data.type).title;
  };

  S.markSaved = function () {
    S.savedJSON = JSON.stringify(S.toDocument());
    S.updateDirty();
  };

  S.updateDirty = function () {
    const dirty = !S.readOnly && JSON.stringify(S.toDocument()) !== S.savedJSON;
    S.dirty = dirty;
    document.getElementById("canvas-app").classList.toggle("is-dirty", dirty);
    const state = document.getElementById("save-state");
    if (!S.readOnly) {
      state.textContent = dirty ? "Unsaved changes"
        : S.latestVersion ? `Saved · version ${S.latestVersion}` : "Not published yet";
    }
    document.getElementById("canvas-empty").hidden = S.graph.getNodes().length > 0;
  };

  // ---- graph setup --------------------------------------------------------------------

  function validConnection({ sourceCell, targetCell, sourcePort, targetPort, sourceMagnet, targetMagnet, edge }) {
    if (!sourceCell || !targetCell || !sourcePort || !targetPort || sourceCell === targetCell) return false;
    if (!sourcePort.startsWith("out:") || !targetPort.startsWith("in:")) return false;
    if (!sourceMagnet || !targetMagnet) return false;
    // No duplicate edges between the same two ports.
    return !S.graph.getEdges().some((e) => e !== edge && e.getSourceCellId() === sourceCell.id &&
      e.getSourcePortId() === sourcePort && e.getTargetCellId() === targetCell.id && e.getTargetPortId() === targetPort);
  }

  function createGraph() {
    const container = document.getElementById("canvas-graph");
    const readOnly = S.readOnly;
    const graph = new X6.Graph({
      container, autoResize: true,
      // Draw only what the stage shows (plus a margin); panning draws the rest as it comes into view.
      virtual: true,
      grid: { size: 10, visible: true, type: "dot", args: { color: "#d5dae5" } },
      background: { color: "#f8f9fc" },
      panning: { enabled: true, eventTypes: ["leftMouseDown", "mouseWheel"] },
      mousewheel: { enabled: true, modifiers: ["ctrl", "meta"], minScale: 0.2, maxScale: 2.5, zoomAtMousePosition: true },
      interacting: readOnly ? { nodeMovable: false, edgeMovable: false, magnetConnectable: false, arrowheadMovable: false, vertexMovable: false, vertexAddable: false }
        : { edgeLabelMovable: false, vertexAddable: false },
      connecting: {
        snap: { radius: 24 }, allowBlank: false, allowLoop: false, allowNode: false, allowEdge: false,
        allowMulti: "withPort", highlight: true,
        // Edges end at the port's centre: no shape-boundary geometry per edge on every redraw.
        connectionPoint: "anchor",
        connector: { name: "smooth" },
        createEdge() { return this.createEdge({ id: S.uniqueId("e"), shape: "sb-edge", zIndex: S.EDGE_LAYER }); },
        validateMagnet: ({ magnet }) => !S.readOnly && magnet.getAttribute("port-group") === "out",
        validateConnection: validConnection,
      },
      highlighting: {
        magnetAvailable: { name: "className", args: { className: "sb-port-available" } },
        magnetAdsorbed: { name: "className", args: { className: "sb-port-adsorbed" } },
      },
    });
    graph.use(new X6.History({
      enabled: true,
      // Only the flow itself is undoable: looks (attrs), hover tools, stacking order and the
      // ports and size derived from a node's config (syncPorts) are not.
      beforeAddCommand: (event, args) => {
        if (args && args.options && args.options.skipHistory) return false;
        return !(args && ["attrs", "tools", "zIndex", "ports", "size"].includes(args.key));
      },
    }));
    graph.use(new X6.Selection({
      enabled: true, multiple: true, rubberband: !readOnly, modifiers: "shift", movable: !readOnly,
      showNodeSelectionBox: true, showEdgeSelectionBox: false, pointerEvents: "none",
    }));
    graph.use(new X6.Snapline({ enabled: !readOnly }));
    graph.use(new X6.MiniMap({ container: document.getElementById("minimap"), width: 150, height: 96, padding: 6, scalable: false,
      graphOptions: { createCellView: (cell) => (cell.isEdge() ? null : undefined) } })); // nodes only: half the drawing
    S.minimap = graph.getPlugin("minimap");
    // The UMD build leaves out the Graph.prototype shortcuts, so talk to the plugins directly.
    S.history = graph.getPlugin("history");
    S.selection = graph.getPlugin("selection");
    return graph;
  }

  function wireGraphEvents() {
    const graph = S.graph;
    graph.on("view:mounted", ({ view }) => { if (view.cell.isNode()) S.decorate(view.cell); });
    graph.on("node:added", ({ node }) => { if (!S.loading) S.refreshNode(node); }); // load() did it already
    graph.on("node:change:data", ({ node, options }) => {
      if (!options.fromForm) {
        S.syncPorts(node);
        if (SB.panel) SB.panel.nodeChanged(node);
      }
      S.refreshNode(node);
    });
    // After undo / redo every edge is back in place: drop ports that only edges kept alive.
    ["history:undo", "history:redo"].forEach((name) => graph.on(name, () => graph.getNodes().forEach((n) => S.syncPorts(n))));
    graph.on("node:change:size", ({ node }) => S.refreshNode(node));
    graph.on("edge:mouseenter", ({ edge }) => {
      if (!S.readOnly) edge.addTools([{ name: "button-remove", args: { distance: "50%" } }], { skipHistory: true });
    });
    graph.on("edge:mouseleave", ({ edge }) => edge.removeTools({ skipHistory: true }));
    graph.on("cell:selected", ({ cell }) => { if (cell.isEdge()) S.refreshEdge(cell); });
    graph.on("cell:unselected", ({ cell }) => { if (cell.isEdge()) S.refreshEdge(cell); });
    graph.on("selection:changed", () => SB.panel && SB.panel.selectionChanged(S.selection.getSelectedCells()));
    // Node buttons fire on mousedown; selecting the node first keeps the click that follows
    // from replacing the panel the button opens.
    graph.on("node:pill-a", ({ node }) => {
      S.selection.reset(node);
      const data = node.getData();
      const kind = S.triggerKind(data.type);
      if (kind.runs_here) { if (S.data.can_run) SB.run.open(node.id); }
      else if (kind.scheduled) return; // selecting it opens its schedule in the panel
      else copyText(S.triggers[node.id].url, "Trigger URL copied.");
    });
    graph.on("node:pill-b", ({ node }) => {
      S.selection.reset(node);
      if (!S.triggerKind(node.getData().type).scheduled) SB.panel.showTrigger(node.id);
    });
    graph.on("scale", ({ sx }) => { document.getElementById("zoom-level").textContent = `${Math.round(sx * 100)}%`; });
    ["scale", "translate", "resize", "model:updated"].forEach((name) => graph.on(name, syncMinimap));
    // Any change to the flow: recompute "unsaved", ask the server for problems (debounced).
    let timer = null;
    const changed = () => {
      clearTimeout(timer);
      if (SB.save) SB.save.checkDue();
      timer = setTimeout(() => { S.updateDirty(); if (SB.save) SB.save.validateSoon(); }, 120);
    };
    ["cell:added", "cell:removed", "cell:change:data", "cell:change:position", "cell:change:source", "cell:change:target", "edge:connected"]
      .forEach((name) => graph.on(name, changed));
  }

  // Without the Scroller plugin the minimap only follows mouse zooms and maps clicks with a
  // stale ratio; keep its ratio equal to its real scale and redraw the viewport on any move.
  S.syncMinimap = syncMinimap; // also when it is shown again (canvas-view.js)
  function syncMinimap() {
    const minimap = S.minimap;
    if (!minimap || !minimap.targetGraph) return;
    setTimeout(() => {
      minimap.ratio = minimap.targetGraph.transform.getScale().sx;
      minimap.updateViewport();
    }, 0);
  }

  async function copyText(text, message) {
    try { await navigator.clipboard.writeText(text); S.toast(message || "Copied."); } catch (err) { window.prompt("Copy this:", text); }
  }
  S.copyText = copyText;

  // ---- boot ---------------------------------------------------------------------------

  function showBanner() {
    const banner = document.getElementById("canvas-banner");
    if (!S.readOnly) return;
    banner.hidden = false;
    if (S.data.archived) {
      banner.replaceChildren(el("span", { text: S.data.can_edit
        ? "This flow is archived, so its canvas cannot be changed or run. Restore it to edit or run it again."
        : "This flow is archived, so its canvas cannot be changed or run." }));
      return;
    }
    banner.replaceChildren(S.data.can_edit
      ? el("span", {}, `Viewing version ${S.data.version} (read-only). `,
        el("a", { href: S.data.urls.flow_page, text: `Open the current version (v${S.data.latest_version})` }),
        " to edit it, or compare and roll back with the buttons above.")
      : el("span", { text: "You can view this flow. Ask an owner to make you an editor to change it." }));
  }

  // The canvas fills the window below whatever the page shows above it (a notice after Duplicate,
  // Roll back or Restore; the read-only banner), so its status bar and the messages drawn there
  // stay in view at 1024x768 instead of a fixed height that ends below the window.
  function fitToWindow() {
    const body = document.querySelector("#canvas-app .canvas-body");
    if (!body) return;
    const top = Math.round(body.getBoundingClientRect().top + window.scrollY);
    body.style.height = `max(480px, calc(100vh - ${top + 18}px))`;
  }

  function boot() {
    const script = document.getElementById("canvas-data");
    if (!script || !window.X6) return;
    S.data = JSON.parse(script.textContent);
    S.readOnly = !!S.data.readonly || !S.data.can_edit;
    S.latestVersion = S.data.latest_version || 0;
    S.data.palette.forEach((entry) => { S.palette[entry.type] = entry; });
    (S.data.triggers || []).forEach((t) => { S.triggers[t.node_id] = t; });
    const app = document.getElementById("canvas-app");
    app.classList.toggle("is-readonly", S.readOnly);
    S.registerShapes();
    S.graph = createGraph();
    wireGraphEvents();
    if (!S.readOnly) S.buildPalette();
    S.wireEditing();
    S.wireView();
    showBanner();
    fitToWindow();
    window.addEventListener("resize", fitToWindow);
    SB.panel.init();
    SB.save.init();
    SB.run.init();
    if (SB.test) SB.test.init();
    load(S.data.document || { nodes: [], edges: [] });
    S.fit(); // before the first frame: X6 draws the nodes where the view will be, not at the origin
    window.addEventListener("beforeunload", (e) => {
      if (S.dirty && !S.leaving) { e.preventDefault(); e.returnValue = ""; }
    });
    app.dataset.ready = "true"; // tests and tools wait for this
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot);
  else boot();
})();
