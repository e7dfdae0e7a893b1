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
  const EDGE = 16; // screen pixels kept free at the stage's edges
  // The problem list docks above the graph: a new node is usually its first problem, and the
  // list's head (about 34 px) then pushes the whole graph down. Kept free only while it can
  // still open or grow; an open list moves nothing more.
  const STRIP_HEAD = 40;

  // Screen pixels the problem list may still push the graph down by.
  function stripGrowth() {
    const strip = document.getElementById("problems");
    if (!strip || strip.hidden) return STRIP_HEAD;
    const list = strip.querySelector("ul");
    if (!list || list.hidden) return 0; // collapsed: one line, whatever the number of problems
    const stage = strip.parentElement.getBoundingClientRect().height;
    // The strip's own cap, as canvas.css's `.canvas-problems { max-height: min(30%, 170px) }` says it
    // (a computed max-height is not resolved to pixels): change both together.
    return Math.max(0, Math.min(0.3 * stage, 170) - strip.getBoundingClientRect().height);
  }

  // The part of the stage a new node may use, in graph units.
  function placeableArea() {
    const graph = S.graph;
    const area = graph.getGraphArea();
    const scale = graph.transform.getScale().sx || 1;
    return { x: area.x + EDGE / scale, y: area.y + EDGE / scale,
      right: area.x + area.width - EDGE / scale, bottom: area.y + area.height - (EDGE + stripGrowth()) / scale };
  }

  // What a new node must not cover: the nodes, and the minimap drawn over the stage's corner.
  function obstacles() {
    const boxes = S.graph.getNodes().map((n) => n.getBBox());
    const map = document.getElementById("minimap");
    if (map && !map.hidden) {
      const r = map.getBoundingClientRect();
      if (r.width && r.height) boxes.push(S.graph.clientToLocal({ x: r.left, y: r.top, width: r.width, height: r.height }));
    }
    return boxes;
  }

  const snap = (value) => Math.round(value / 10) * 10;
  const up = (value) => Math.ceil(value / 10) * 10;
  const down = (value) => Math.floor(value / 10) * 10;

  // The free spot nearest to `want` for a node of `size` whose top-left lies within `range`
  // ({x, y, maxX, maxY}); `cost` ranks the spots (nearest first). Tried: a STEP grid, and every
  // spot just clear of a neighbour or the range's edges, so a gap that fits the node is found
  // even when the grid misses it by a few units.
  function freeSpot(range, size, boxes, cost) {
    if (range.maxX < range.x || range.maxY < range.y) return null;
    const near = boxes.filter((b) => b.x < range.maxX + size.width + GAP && b.x + b.width > range.x - GAP
      && b.y < range.maxY + size.height + GAP && b.y + b.height > range.y - GAP);
    const free = (x, y) => !near.some((b) => x < b.x + b.width + GAP && x + size.width + GAP > b.x
      && y < b.y + b.height + GAP && y + size.height + GAP > b.y);
    const axis = (from, to, starts, ends, length) => {
      const lo = up(from), hi = down(to);
      const values = new Set([lo, hi]);
      for (let v = lo; v <= hi; v += STEP) values.add(v);
      near.forEach((b) => { values.add(up(ends(b) + GAP)); values.add(down(starts(b) - GAP - length)); });
      return [...values].filter((v) => v >= lo && v <= hi);
    };
    const xs = axis(range.x, range.maxX, (b) => b.x, (b) => b.x + b.width, size.width);
    const ys = axis(range.y, range.maxY, (b) => b.y, (b) => b.y + b.height, size.height);
    let best = null;
    for (const x of xs) {
      for (const y of ys) {
        const c = cost(x, y);
        if ((!best || c < best.c) && free(x, y)) best = { x, y, c };
      }
    }
    return best && { x: best.x, y: best.y };
  }

  const distance = (want) => (x, y) => Math.hypot(x - want.x, (y - want.y) * 1.5);

  function freeSpotInView(want, size, boxes) {
    const area = placeableArea();
    return freeSpot({ x: area.x, y: area.y, maxX: area.right - size.width, maxY: area.bottom - size.height },
      size, boxes, distance(want));
  }

  // How far (graph units) the view must move to show a node of `size` at (x, y) whole.
  function panNeeded(area, x, y, size) {
    const dx = x < area.x ? x - area.x : Math.max(0, x + size.width - area.right);
    const dy = y < area.y ? y - area.y : Math.max(0, y + size.height - area.bottom);
    return { dx, dy };
  }

  // A full view: the free spot just outside it that needs the least panning to show (nearest
  // `want` among equals), searched in rings a node wide around the view.
  function freeSpotOutside(want, size, boxes) {
    const area = placeableArea();
    const near = distance(want);
    const cost = (x, y) => { const p = panNeeded(area, x, y, size); return Math.hypot(p.dx, p.dy) * 1000 + near(x, y); };
    for (let ring = 1; ring <= 8; ring += 1) {
      const grow = { x: ring * (size.width + GAP), y: ring * (size.height + GAP) };
      const spot = freeSpot({ x: area.x - grow.x, y: area.y - grow.y, maxX: area.right - size.width + grow.x,
        maxY: area.bottom - size.height + grow.y }, size, boxes, cost);
      if (spot) return spot;
    }
    return null;
  }

  // A crowded canvas: below `spot` until nothing is covered.
  function freeSpotBelow(spot, size) {
    const taken = () => S.graph.getNodes().some((n) => n.getBBox().isIntersectWithRect(
      { x: spot.x - GAP, y: spot.y - GAP, width: size.width + 2 * GAP, height: size.height + 2 * GAP }));
    for (let i = 0; i < 200 && taken(); i += 1) spot.y += 20;
    return spot;
  }

  // Pan the least that shows `node` whole (not centring it), so what was in view mostly stays.
  function panToShow(node) {
    const graph = S.graph;
    const box = node.getBBox();
    const { dx, dy } = panNeeded(placeableArea(), box.x, box.y, box);
    if (!dx && !dy) return;
    const scale = graph.transform.getScale().sx || 1;
    const t = graph.transform.getTranslation();
    graph.translate(t.tx - dx * scale, t.ty - dy * scale);
  }

  // Right of the selected node, else the middle of what the stage shows; then the nearest spot
  // where it covers no other node and stays in view, so nodes added one after another line up
  // side by side where the person is looking instead of piling up or wandering off screen.
  // Only a full view sends the node just outside it, and the view then moves as little as it can.
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
    const boxes = obstacles();
    const spot = freeSpotInView(want, size, boxes) || freeSpotOutside(want, size, boxes) || freeSpotBelow(want, size);
    const node = graph.addNode({ ...metadata, x: spot.x, y: spot.y });
    S.selection.reset(node);
    panToShow(node);
    return node;
  };
})();
