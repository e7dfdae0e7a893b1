// The palette of node types: drag one onto the canvas, or click it to add it next to the
// selected node (else in the middle of what the stage shows). A search field on top filters
// the types as you type; Enter adds the first match ("/" anywhere on the canvas focuses it).
(function () {
  "use strict";
  const SB = (window.Switchboard = window.Switchboard || {});
  const S = (SB.canvas = SB.canvas || {});

  const GROUPS = [["trigger", "Triggers"], ["start", "Start"], ["logic", "Logic"], ["action", "Actions"], ["output", "Output"]];
  const DRAG_THRESHOLD = 4; // px the mouse moves before a press on an item becomes a drag

  // A drag starts only once the mouse moves: a press-and-release stays a click. (Starting X6's
  // Dnd on mousedown put its drag image under the cursor, so the click never reached the item.)
  function pressItem(dnd, entry, down) {
    if (down.button !== 0 || S.readOnly) return;
    const move = (e) => {
      if (Math.hypot(e.clientX - down.clientX, e.clientY - down.clientY) < DRAG_THRESHOLD) return;
      stop();
      dnd.start(S.graph.createNode(S.newNodeMetadata(entry.type, { x: 0, y: 0 })), e);
    };
    const stop = () => {
      document.removeEventListener("mousemove", move);
      document.removeEventListener("mouseup", stop);
    };
    document.addEventListener("mousemove", move);
    document.addEventListener("mouseup", stop);
  }

  function item(dnd, entry, category) {
    const { el } = SB.forms;
    const search = `${entry.title} ${entry.description || ""} ${category}`.toLowerCase();
    return el("button", {
      type: "button", class: `palette-item cat-${category}`, "data-type": entry.type, "data-search": search,
      "data-title": entry.title.toLowerCase(),
      title: `${entry.title}: ${entry.description || ""}`,
      onmousedown: (e) => pressItem(dnd, entry, e),
      onclick: () => S.readOnly || S.addNodeNear(entry.type),
    }, el("span", { class: "palette-title", text: entry.title }), el("span", { class: "palette-desc", text: entry.description }));
  }

  S.buildPalette = function () {
    const { el } = SB.forms;
    const root = document.getElementById("palette");
    const list = document.getElementById("palette-list");
    const dnd = new X6.Dnd({
      target: S.graph, scaled: false, dndContainer: root,
      getDragNode: (sourceNode) => sourceNode.clone(),
      // The dropped node gets its final id and config here; Dnd positions it under the cursor.
      getDropNode: (dragging) => S.graph.createNode(S.newNodeMetadata(dragging.getData().type, { x: 0, y: 0 })),
    });
    for (const [category, label] of GROUPS) {
      const entries = S.data.palette.filter((e) => e.category === category);
      if (!entries.length) continue;
      const group = el("div", { class: "palette-group", "data-category": category }, el("h3", { text: label }));
      entries.forEach((entry) => group.append(item(dnd, entry, category)));
      list.append(group);
    }
    wireSearch();
  };

  // ---- quick add ----------------------------------------------------------------------

  function matches() {
    return Array.from(document.querySelectorAll("#palette-list .palette-item")).filter((b) => !b.hidden);
  }

  // The type whose title matches wins over one that only mentions the words in its description.
  function best(text) {
    const words = text.toLowerCase().split(/\s+/).filter(Boolean);
    const found = matches();
    return found.find((b) => words.every((w) => b.dataset.title.includes(w))) || found[0];
  }

  function filter(text) {
    const words = text.toLowerCase().split(/\s+/).filter(Boolean);
    document.querySelectorAll("#palette-list .palette-item").forEach((b) => {
      b.hidden = !words.every((w) => b.dataset.search.includes(w));
    });
    document.querySelectorAll("#palette-list .palette-group").forEach((g) => {
      g.hidden = !g.querySelector(".palette-item:not([hidden])");
    });
    document.getElementById("palette-none").hidden = matches().length > 0;
  }

  function wireSearch() {
    const input = document.getElementById("palette-search");
    input.addEventListener("input", () => filter(input.value));
    input.addEventListener("keydown", (e) => {
      if (e.key === "Enter") {
        e.preventDefault();
        const first = best(input.value);
        if (!first) return;
        S.addNodeNear(first.dataset.type);
        input.value = "";
        filter("");
        document.getElementById("canvas-graph").focus();
      } else if (e.key === "Escape") {
        input.value = "";
        filter("");
        input.blur();
      }
    });
  }

  S.focusQuickAdd = function () {
    const input = document.getElementById("palette-search");
    if (!input || S.readOnly) return;
    input.focus();
    input.select();
  };

  // ---- placing a clicked node ---------------------------------------------------------

  const GAP = 30; // graph units kept free around a new node, so it never touches a neighbour
  const STEP = 20; // spacing of the spots tried (a multiple of the 10-unit grid)
  // Screen pixels kept free at the stage's edges: the problems strip can open above the graph
  // (it pushes the bottom of the view down and out) and the buttons sit in the corners.
  const EDGE = { top: 16, left: 16, right: 24, bottom: 56 };

  // The part of the stage a new node may use, in graph units.
  function placeableArea() {
    const graph = S.graph;
    const area = graph.getGraphArea();
    const scale = graph.transform.getScale().sx || 1;
    return { x: area.x + EDGE.left / scale, y: area.y + EDGE.top / scale,
      right: area.x + area.width - EDGE.right / scale, bottom: area.y + area.height - EDGE.bottom / scale };
  }

  const snap = (value) => Math.round(value / 10) * 10;

  // The free spot nearest to `want` for a node of `size`, inside the placeable area; null when the
  // area is full. Every spot on a STEP grid is tried, nearest first: a few thousand rectangle tests.
  function freeSpotInView(want, size) {
    const area = placeableArea();
    const maxX = area.right - size.width, maxY = area.bottom - size.height;
    if (maxX < area.x || maxY < area.y) return null; // the view is smaller than the node
    const near = S.graph.getNodes().map((n) => n.getBBox())
      .filter((b) => b.x < area.right + GAP && b.x + b.width > area.x - GAP && b.y < area.bottom + GAP && b.y + b.height > area.y - GAP);
    const free = (x, y) => !near.some((b) => x < b.x + b.width + GAP && x + size.width + GAP > b.x
      && y < b.y + b.height + GAP && y + size.height + GAP > b.y);
    const spots = [];
    for (let x = snap(area.x + 5); x <= maxX; x += STEP) {
      for (let y = snap(area.y + 5); y <= maxY; y += STEP) spots.push({ x, y, d: Math.hypot(x - want.x, (y - want.y) * 1.5) });
    }
    spots.sort((a, b) => a.d - b.d);
    const spot = spots.find((s) => free(s.x, s.y));
    return spot ? { x: spot.x, y: spot.y } : null;
  }

  // A crowded view: below `spot` until nothing is covered (the view then moves to the node).
  function freeSpotBelow(spot, size) {
    const taken = () => S.graph.getNodes().some((n) => n.getBBox().isIntersectWithRect(
      { x: spot.x - GAP, y: spot.y - GAP, width: size.width + 2 * GAP, height: size.height + 2 * GAP }));
    for (let i = 0; i < 200 && taken(); i += 1) spot.y += 20;
    return spot;
  }

  // Right of the selected node, else the middle of what the stage shows; then the nearest spot
  // where it covers no other node and stays in view, so nodes added one after another line up
  // side by side where the person is looking instead of piling up or wandering off screen.
  S.addNodeNear = function (type) {
    const graph = S.graph;
    const metadata = S.newNodeMetadata(type, { x: 0, y: 0 });
    const size = { width: metadata.width, height: metadata.height };
    const selected = S.selection.getSelectedCells().filter((c) => c.isNode());
    let want;
    if (selected.length) {
      const box = selected[selected.length - 1].getBBox();
      want = { x: box.x + box.width + 70, y: box.y };
    } else {
      const area = graph.getGraphArea();
      want = { x: area.x + area.width / 2 - size.width / 2, y: area.y + area.height / 3 };
    }
    want = { x: snap(want.x), y: snap(want.y) };
    const spot = freeSpotInView(want, size) || freeSpotBelow(want, size);
    const node = graph.addNode({ ...metadata, x: spot.x, y: spot.y });
    S.selection.reset(node);
    if (!graph.getGraphArea().containsRect(node.getBBox())) graph.centerCell(node);
    return node;
  };
})();
