// What part of the flow the stage shows: a readable zoom first. "Fit" never shrinks nodes
// below a size where their titles can be read; a flow too big for that is shown from its
// start (triggers and Start node, on the left) and the rest is a pan or the minimap away.
// Also the minimap's show/hide toggle, remembered per browser.
(function () {
  "use strict";
  const SB = (window.Switchboard = window.Switchboard || {});
  const S = (SB.canvas = SB.canvas || {});

  // Node titles are 15 px and subtitles 12 px: at 0.75 they are 11.25 px and 9 px on screen.
  const MIN_LEGIBLE = 0.75;
  const PADDING = 24;
  const MINIMAP_KEY = "switchboard.canvas.minimap";

  // The area the nodes may use: the stage minus the strips docked over its edges (run bar).
  function viewport() {
    const box = document.getElementById("canvas-graph").getBoundingClientRect();
    return { width: Math.max(box.width, 100), height: Math.max(box.height, 100) };
  }

  // Where a reader starts: the leftmost column (triggers, the Start node).
  function startArea(nodes) {
    const left = Math.min(...nodes.map((n) => n.getPosition().x));
    const column = nodes.filter((n) => n.getPosition().x < left + S.NODE_WIDTH);
    const top = Math.min(...column.map((n) => n.getPosition().y));
    const bottom = Math.max(...column.map((n) => n.getPosition().y + n.getSize().height));
    return { left, top, bottom };
  }

  // X6 moves the area it draws (virtual rendering) at most every 200 ms after a pan; after a
  // jump draw the new area at once, not the old one first (a quarter of the time to draw at 200 nodes).
  function drawAreaNow() {
    const graph = S.graph;
    if (!graph.virtualRender || !graph.virtualRender.isVirtualEnabled()) return;
    const area = graph.getGraphArea().clone();
    const margin = graph.virtualRender.getVirtualMargin();
    area.inflate(margin, margin);
    graph.renderer.setRenderArea(area);
  }

  S.fit = function () {
    fitView();
    drawAreaNow();
  };

  function fitView() {
    const graph = S.graph;
    const nodes = graph.getNodes();
    if (!nodes.length) { graph.zoomTo(1); graph.translate(0, 0); return; }
    const content = graph.getContentBBox(); // graph units, whatever the zoom
    const view = viewport();
    const fits = Math.min(1, (view.width - 2 * PADDING) / content.width, (view.height - 2 * PADDING) / content.height);
    const scale = Math.max(MIN_LEGIBLE, Math.min(1, fits));
    graph.zoomTo(scale);
    if (fits >= MIN_LEGIBLE) { // everything shows: centre it
      const center = content.getCenter();
      graph.translate(view.width / 2 - center.x * scale, view.height / 2 - center.y * scale);
      return;
    }
    const start = startArea(nodes);
    const tx = PADDING - start.left * scale;
    // Vertically: the whole flow when its height fits, else the start column from its top.
    let ty;
    if (content.height * scale <= view.height - 2 * PADDING) ty = view.height / 2 - (content.y + content.height / 2) * scale;
    else if ((start.bottom - start.top) * scale <= view.height - 2 * PADDING) {
      ty = view.height / 2 - ((start.top + start.bottom) / 2) * scale;
      ty = Math.min(ty, PADDING - content.y * scale); // never leave a gap above the flow's top
    } else ty = PADDING - start.top * scale;
    graph.translate(tx, ty);
  }

  S.MIN_LEGIBLE = MIN_LEGIBLE;

  // ---- minimap ------------------------------------------------------------------------

  // The user's choice wins; until they make one, a narrow window keeps the stage for the nodes.
  function minimapShown() {
    let stored = null;
    try { stored = localStorage.getItem(MINIMAP_KEY); } catch (err) { /* private mode */ }
    return stored ? stored !== "hidden" : window.innerWidth >= 1200;
  }

  function showMinimap(shown) {
    document.getElementById("minimap").hidden = !shown;
    const button = document.getElementById("btn-minimap");
    button.setAttribute("aria-pressed", String(shown));
    button.title = shown ? "Hide the overview map" : "Show the overview map";
    if (shown && S.syncMinimap) S.syncMinimap(); // it did not follow the view while hidden
  }

  S.wireView = function () {
    document.getElementById("btn-minimap").addEventListener("click", () => {
      const shown = document.getElementById("minimap").hidden;
      showMinimap(shown);
      try { localStorage.setItem(MINIMAP_KEY, shown ? "shown" : "hidden"); } catch (err) { /* private mode */ }
    });
    showMinimap(minimapShown());
  };
})();
