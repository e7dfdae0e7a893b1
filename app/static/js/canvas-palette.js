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

  // Move `spot` down until a new node there would not cover another one.
  function freeSpot(spot) {
    const taken = () => S.graph.getNodes().some((n) => n.getBBox().isIntersectWithRect(
      { x: spot.x - 10, y: spot.y - 10, width: S.NODE_WIDTH + 20, height: 100 }));
    for (let i = 0; i < 30 && taken(); i += 1) spot.y += 110;
    return spot;
  }

  // Right of the selected node, else the middle of what the stage shows; below any node there.
  S.addNodeNear = function (type) {
    const graph = S.graph;
    const selected = S.selection.getSelectedCells().filter((c) => c.isNode());
    let spot;
    if (selected.length) {
      const box = selected[selected.length - 1].getBBox();
      spot = { x: box.x + box.width + 70, y: box.y };
    } else {
      const area = graph.getGraphArea();
      spot = { x: area.x + area.width / 2 - S.NODE_WIDTH / 2, y: area.y + area.height / 3 };
    }
    spot = freeSpot({ x: Math.round(spot.x / 10) * 10, y: Math.round(spot.y / 10) * 10 });
    const node = graph.addNode(S.newNodeMetadata(type, spot));
    S.selection.reset(node);
    if (!graph.getGraphArea().containsRect(node.getBBox())) graph.centerCell(node);
    return node;
  };
})();
