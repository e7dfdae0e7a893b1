// Compare two versions on the canvas: the newer version is drawn with its added nodes green,
// changed ones amber and the removed ones as red ghosts from the older version; the side panel
// lists each changed field "before → after". The diff comes from the server
// (GET …/versions/<a>/compare/<b>), so the browser holds no diff rule of its own.
// While comparing, the canvas is read-only; "Close comparison" puts back exactly what was on
// it (unsaved edits included). Rollback confirmation lives in canvas-rollback.js.
(function () {
  "use strict";
  const SB = (window.Switchboard = window.Switchboard || {});
  const { el } = SB.forms;
  const S = () => SB.canvas;

  const WORDS = { added: "added", removed: "removed", changed: "changed", moved: "moved only" };
  const EDGE_LOOK = { added: { stroke: "#1f9d55", dash: null }, removed: { stroke: "#d64545", dash: "6 4" } };
  const READ_ONLY = { nodeMovable: false, edgeMovable: false, magnetConnectable: false, arrowheadMovable: false,
    vertexMovable: false, vertexAddable: false };

  let state = null; // {diff, marks, snapshot} while a comparison is shown
  let wired = false;

  // ---- plain words ---------------------------------------------------------------------

  // A field's value in a few words: texts as they are, yes/no for booleans, lists and objects short.
  function shortValue(value, max) {
    if (value === null || value === undefined || value === "") return "(empty)";
    let text;
    if (typeof value === "string") text = value;
    else if (typeof value === "boolean") text = value ? "Yes" : "No";
    else if (Array.isArray(value)) text = value.length ? `${value.length} item${value.length > 1 ? "s" : ""}` : "(none)";
    else text = JSON.stringify(value);
    text = text.replace(/\s+/g, " ").trim();
    const limit = max || 60;
    return text.length > limit ? `${text.slice(0, limit - 1)}…` : text;
  }

  const count = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;

  function compareUrl(from, to, withDocuments) {
    const url = S().data.urls.compare.replace("__A__", encodeURIComponent(from)).replace("__B__", encodeURIComponent(to));
    return withDocuments ? `${url}?include=documents` : url;
  }

  function fieldLine(field) {
    return el("li", { class: "compare-field", "data-path": field.path },
      el("span", { class: "compare-field-title", text: `${field.title}: ` }),
      el("del", { text: shortValue(field.before), title: typeof field.before === "string" ? field.before : "" }),
      " → ",
      el("ins", { text: shortValue(field.after), title: typeof field.after === "string" ? field.after : "" }));
  }

  function nodeSection(entry, kind) {
    const head = el("h3", {}, el("span", { class: `compare-chip ${kind}`, text: WORDS[kind] }), " ", entry.name);
    const section = el("section", { class: `compare-node ${kind}`, "data-compare-node": entry.node_id }, head);
    if (kind === "changed") section.append(el("ul", {}, entry.fields.map(fieldLine)));
    else if (entry.type_title && entry.type_title !== entry.name) section.append(el("p", { class: "small muted", text: entry.type_title }));
    return section;
  }

  function edgeLines(diff) {
    const line = (edge, kind) => el("li", { class: `compare-edge ${kind}` },
      el("span", { class: `compare-chip ${kind}`, text: WORDS[kind] }), ` ${edge.source_name} → ${edge.target_name}`);
    return diff.edges_added.map((e) => line(e, "added")).concat(diff.edges_removed.map((e) => line(e, "removed")));
  }

  // What a compare answer's `details_changed` names, in words (the rollback dialog says it too);
  // the general sentence when the server did not say.
  const STORED_WORDS = { name: "its name", description: "its description", order: "the order of its steps or connections",
    edge_ids: "how its connections are labelled", other: "other stored settings" };
  function storedWords(details) {
    const words = (details || []).map((d) => STORED_WORDS[d]).filter(Boolean);
    if (!words.length) return "such as the order of its steps or its name";
    return words.length === 1 ? words[0] : `${words.slice(0, -1).join(", ")} and ${words[words.length - 1]}`;
  }

  function summary(diff) {
    const parts = [];
    if (diff.added.length) parts.push(`${count(diff.added.length, "node")} added`);
    if (diff.removed.length) parts.push(`${count(diff.removed.length, "node")} removed`);
    if (diff.changed.length) parts.push(`${count(diff.changed.length, "node")} changed`);
    const edges = diff.edges_added.length + diff.edges_removed.length;
    if (edges) parts.push(`${count(edges, "connection")} different`);
    if (!parts.length && diff.same === false && !diff.moved.length) {
      return `Nothing on the canvas differs; only how the flow is stored (${storedWords(diff.details_changed)}).`;
    }
    if (!parts.length) return diff.moved.length ? "Only node positions differ." : "No difference: the two versions are the same.";
    return `${parts.join(", ")}.`;
  }

  function panelParts(diff) {
    const parts = [el("div", { class: "side-head" }, el("h2", { text: `Version ${diff.from} → version ${diff.to}` })),
      el("p", { class: "compare-summary", text: summary(diff) })];
    const sections = [].concat(diff.changed.map((e) => nodeSection(e, "changed")),
      diff.added.map((e) => nodeSection(e, "added")), diff.removed.map((e) => nodeSection(e, "removed")));
    if (sections.length) parts.push(el("div", { class: "compare-list" }, sections));
    const edges = edgeLines(diff);
    if (edges.length) parts.push(el("h3", { class: "compare-subhead", text: "Connections" }), el("ul", { class: "compare-edges" }, edges));
    if (diff.moved.length) {
      parts.push(el("p", { class: "small muted", text: `Moved only (not counted as changes): ${diff.moved.map((n) => n.name).join(", ")}.` }));
    }
    return parts;
  }

  // ---- drawing -------------------------------------------------------------------------

  // Replace the cells without touching the undo history (it still describes the user's edits).
  // Documents made through the API may lack positions: those are laid out as the canvas does.
  function drawCells(nodes, edges) {
    const graph = S().graph;
    S().history.disable();
    graph.resetCells([]);
    nodes.forEach((n) => graph.addNode(S().nodeMetadata(n)));
    edges.forEach((e) => {
      if (graph.getCellById(e.source) && graph.getCellById(e.target)) graph.addEdge(S().edgeMetadata(e));
    });
    graph.getNodes().forEach((n) => S().syncPorts(n));
    if (S().tidy && nodes.some((n) => !n.position)) S().tidy({ skipHistory: true });
    S().history.enable();
  }

  const edgeKey = (e) => [e.source, e.source_port, e.target, e.target_port].join("\u0000");

  function marksOf(diff) {
    const marks = {};
    ["added", "removed", "changed", "moved"].forEach((kind) => diff[kind].forEach((n) => { marks[n.node_id] = kind; }));
    return marks;
  }

  function drawComparison(diff) {
    const before = diff.documents.from || {};
    const after = diff.documents.to || {};
    const removedIds = new Set(diff.removed.map((n) => n.node_id));
    const ghosts = (before.nodes || []).filter((n) => removedIds.has(n.id));
    const removedEdges = new Set(diff.edges_removed.map(edgeKey));
    const ghostEdges = (before.edges || []).filter((e) => removedEdges.has(edgeKey(e)))
      .map((e, i) => ({ ...e, id: `compare-removed-${i}` }));
    drawCells((after.nodes || []).concat(ghosts), (after.edges || []).concat(ghostEdges));
    const addedEdges = new Set(diff.edges_added.map(edgeKey));
    S().graph.getEdges().forEach((edge) => {
      const doc = { source: edge.getSourceCellId(), source_port: S().portName(edge.getSourcePortId()),
        target: edge.getTargetCellId(), target_port: S().portName(edge.getTargetPortId()) };
      const kind = edge.id.startsWith("compare-removed-") ? "removed" : addedEdges.has(edgeKey(doc)) ? "added" : null;
      if (kind) state.edges[edge.id] = kind;
      markEdge(edge);
    });
    S().graph.getNodes().forEach(markNode);
  }

  function markEdge(edge) {
    const kind = state && state.edges[edge.id];
    if (!kind) return;
    edge.attr({ line: { stroke: EDGE_LOOK[kind].stroke, strokeDasharray: EDGE_LOOK[kind].dash, strokeWidth: 2.5 } }, { skipHistory: true });
    const view = S().graph.findViewByCell(edge);
    if (view) view.container.setAttribute("data-compare", kind);
  }

  function markNode(node) {
    const kind = state && state.marks[node.id];
    node.setAttrs({ status: { text: kind ? WORDS[kind] : "" } }, { skipHistory: true });
    const view = S().graph.findViewByCell(node);
    if (!view) return;
    if (kind) view.container.setAttribute("data-compare", kind);
    else view.container.removeAttribute("data-compare");
  }

  // Problems and run results redraw nodes and edges (S.refreshNode / S.refreshEdge) at any time, e.g.
  // when a check started before the comparison answers; while comparing, the comparison's look
  // is drawn over theirs, and problems of the canvas being edited are not shown on these nodes.
  function keepMarksOnRefresh() {
    const refreshNode = S().refreshNode;
    const refreshEdge = S().refreshEdge;
    S().refreshNode = function (node) {
      if (!state) return refreshNode(node);
      const problems = S().problems;
      S().problems = [];
      try { refreshNode(node); } finally { S().problems = problems; }
      return markNode(node);
    };
    S().refreshEdge = function (edge) {
      refreshEdge(edge);
      markEdge(edge);
    };
  }

  // ---- entering and leaving ------------------------------------------------------------

  function snapshot() {
    const graph = S().graph;
    return { document: S().toDocument(), dirty: S().dirty, readOnly: S().readOnly, problems: S().problems,
      interacting: graph.options.interacting, scale: graph.transform.getScale(), translate: graph.translate() };
  }

  function enter() {
    SB.panel.showEmpty();
    S().selection.clean();
    S().selection.disable();
    S().readOnly = true;
    S().problems = [];
    S().graph.options.interacting = READ_ONLY;
    document.getElementById("canvas-app").classList.add("is-comparing");
  }

  function bar(diff) {
    const box = el("div", { class: "compare-bar", id: "compare-bar", role: "region", "aria-label": "Comparison" },
      el("strong", { text: `Comparing version ${diff.from} with version ${diff.to}` }),
      el("span", { class: "compare-legend" }, ["added", "changed", "removed"].map((k) => el("span", { class: `compare-chip ${k}`, text: WORDS[k] }))),
      el("button", { type: "button", class: "primary", id: "btn-close-compare", onclick: close }, "Close comparison"));
    document.getElementById("canvas-stage").append(box);
  }

  async function open(from, to) {
    if (!S().graph || !S().data.urls.compare) return;
    wire();
    const result = await S().api("GET", compareUrl(from, to, true));
    if (result.status !== 200) {
      S().toast(`Could not compare: ${S().errorMessage(result)}`, "error");
      return;
    }
    if (state) close();
    state = { diff: result.body, marks: marksOf(result.body), edges: {}, snapshot: snapshot() };
    enter();
    drawComparison(result.body);
    bar(result.body);
    const side = document.getElementById("side-panel");
    side.replaceChildren(...panelParts(result.body));
    side.dataset.showing = "compare";
    const top = document.getElementById("canvas-app").getBoundingClientRect().top;
    if (top < -40 || top > window.innerHeight / 2) document.getElementById("canvas-app").scrollIntoView({ block: "start" });
    if (S().fit) S().fit();
  }

  function close() {
    if (!state) return;
    const saved = state.snapshot;
    state = null;
    const graph = S().graph;
    drawCells(saved.document.nodes || [], saved.document.edges || []);
    S().readOnly = saved.readOnly;
    S().problems = saved.problems;
    graph.options.interacting = saved.interacting;
    S().selection.enable();
    graph.getNodes().forEach(markNode);
    S().refreshAll();
    S().updateDirty();
    graph.scale(saved.scale.sx, saved.scale.sy);
    graph.translate(saved.translate.tx, saved.translate.ty);
    const barBox = document.getElementById("compare-bar");
    if (barBox) barBox.remove();
    document.getElementById("canvas-app").classList.remove("is-comparing");
    SB.panel.showEmpty();
    if (!S().readOnly && SB.save) SB.save.validateSoon(0); // problems of the canvas as it is again
  }

  // Clicking a node while comparing points at what changed in it, in the side panel.
  function showNodeChanges(node) {
    const section = document.querySelector(`#side-panel [data-compare-node="${CSS.escape(node.id)}"]`);
    document.querySelectorAll("#side-panel .compare-node.is-current").forEach((s) => s.classList.remove("is-current"));
    if (!section) return;
    section.classList.add("is-current");
    const side = document.getElementById("side-panel");
    const offset = section.getBoundingClientRect().top - side.getBoundingClientRect().top;
    if (offset < 0 || offset > side.clientHeight - 40) side.scrollTop += offset - 8; // the panel only, never the page
  }

  // Graph listeners are added once, the first time a comparison opens.
  function wire() {
    if (wired) return;
    wired = true;
    const graph = S().graph;
    graph.on("view:mounted", ({ view }) => {
      if (!state) return;
      if (view.cell.isNode()) markNode(view.cell);
      else markEdge(view.cell);
    });
    graph.on("node:click", ({ node }) => { if (state) showNodeChanges(node); });
    keepMarksOnRefresh();
    window.addEventListener("beforeunload", (e) => {
      if (state && state.snapshot.dirty) { e.preventDefault(); e.returnValue = ""; }
    });
  }

  // Compare buttons and forms live in server fragments (versions panel) and on the old-version
  // page, so they are found by their data attributes whenever they are used.
  document.addEventListener("click", (e) => {
    const button = e.target.closest && e.target.closest("[data-compare-from]");
    if (!button) return;
    e.preventDefault();
    open(Number(button.dataset.compareFrom), Number(button.dataset.compareTo));
  });
  document.addEventListener("submit", (e) => {
    const form = e.target.closest && e.target.closest("form[data-compare-form]");
    if (!form) return;
    e.preventDefault();
    open(Number(form.elements.from.value), Number(form.elements.to.value));
  });
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && state && !document.querySelector("dialog[open]")) close();
  });

  SB.compare = { open, close, isOpen: () => Boolean(state), shortValue, count, summary, storedWords };
})();
