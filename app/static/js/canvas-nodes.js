// Node looks and ports: the X6 shapes, each node's size and ports from its type and config,
// and the live decorations (trigger URL and buttons, run status, problem badge).
(function () {
  "use strict";
  const SB = (window.Switchboard = window.Switchboard || {});
  const S = (SB.canvas = SB.canvas || {});
  const { clone } = SB.forms;

  const NODE_WIDTH = 200;
  const TRIGGER_WIDTH = 220;
  const HEAD = 50; // title + subtitle
  const ROW = 22; // one port row
  const TRIGGER_ROWS = 32; // the buttons under a trigger's URL (the URL shares the port row)

  // ---- node types, ports and looks ----------------------------------------------------

  S.entry = (type) => S.palette[type] || { type, title: type, category: "logic", config_schema: {}, input_ports: ["in"], output_ports: ["out"] };
  // What a trigger type does in the editor (scheduled, runs here, shows a model…): its adapter's
  // hints, rendered by the server into the palette, so no script compares trigger type names.
  S.triggerKind = (type) => S.entry(type).trigger || {};

  S.outputPorts = function (type, config) {
    const entry = S.entry(type);
    const dynamic = entry.dynamic_output_ports; // e.g. condition: one port per branch, then else
    let ports = entry.output_ports || [];
    if (dynamic) {
      const items = Array.isArray((config || {})[dynamic.array]) ? config[dynamic.array] : [];
      ports = items.map((item) => item && item[dynamic.field]).filter((p) => typeof p === "string" && p !== "")
        .concat(dynamic.append || []);
    }
    if (entry.error_port && (config || {}).on_error === "port") ports = ports.concat(["error"]); // handled failures
    return [...new Set(ports)]; // a duplicated port name is reported by the server; draw it once
  };

  const portId = (direction, name) => `${direction}:${name}`;
  const portName = (id) => (id || "").replace(/^(in|out):/, "");

  // Size and port layout of a node; `extra` = ports still used by edges though the config
  // no longer declares them ({in: [...], out: [...]}), drawn after the declared ones.
  function geometry(type, config, extra) {
    const entry = S.entry(type);
    const ins = (entry.input_ports || []).concat((extra && extra.in) || []);
    const outs = S.outputPorts(type, config).concat((extra && extra.out) || []);
    const rows = Math.max(ins.length, outs.length, 1);
    const width = entry.is_trigger ? TRIGGER_WIDTH : NODE_WIDTH;
    const height = HEAD + rows * ROW + (entry.is_trigger ? TRIGGER_ROWS : 8);
    const item = (direction, name, index) => ({
      id: portId(direction, name), group: direction,
      args: { x: direction === "in" ? 0 : "100%", y: HEAD + ROW / 2 + index * ROW },
      attrs: { circle: { "data-port": name, "data-direction": direction }, text: { text: name } },
    });
    return { width, height, ports: ins.map((p, i) => item("in", p, i)).concat(outs.map((p, i) => item("out", p, i))) };
  }

  const truncate = (text, max) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

  function registerShapes() {
    const pill = (selector, event) => ({
      tagName: "g", selector, attrs: { event, class: "sb-pill", cursor: "pointer" },
      children: [{ tagName: "rect", selector: `${selector}Bg` }, { tagName: "text", selector: `${selector}Text` }],
    });
    X6.Graph.registerNode("sb-node", {
      width: NODE_WIDTH, height: 80,
      markup: [
        { tagName: "rect", selector: "body", className: "sb-body" },
        { tagName: "rect", selector: "accent", className: "sb-accent" },
        { tagName: "text", selector: "title", className: "sb-title" },
        { tagName: "text", selector: "subtitle", className: "sb-subtitle" },
        { tagName: "text", selector: "status", className: "sb-status" },
        { tagName: "text", selector: "url", className: "sb-url" },
        pill("pillA", "node:pill-a"),
        pill("pillB", "node:pill-b"),
        { tagName: "g", selector: "badge", className: "sb-badge",
          children: [{ tagName: "circle", selector: "badgeDot" }, { tagName: "text", selector: "badgeText" }] },
      ],
      attrs: {
        // Sizes are set by refreshNode, not relative ("refWidth"): X6 measures relative
        // attributes in the DOM for every node it draws, a third of the drawing time at 200 nodes.
        body: { width: NODE_WIDTH, height: 80, rx: 8, ry: 8, fill: "#fff", stroke: "#c9d0de", strokeWidth: 1.5 },
        accent: { x: 0, y: 0, width: 6, height: 80, rx: 3, ry: 3 },
        title: { x: 16, y: 21, fontSize: 15, fontWeight: 600, fill: "#1d2330" },
        subtitle: { x: 16, y: 39, fontSize: 12, fill: "#4b5263" },
        status: { x: NODE_WIDTH - 12, y: 21, fontSize: 11, textAnchor: "end", fill: "#6b7385" },
        url: { x: 16, fontSize: 10.5, fill: "#374151", fontFamily: "ui-monospace, Menlo, monospace", display: "none" },
        pillA: { display: "none" }, pillB: { display: "none" },
        pillABg: { width: 84, height: 20, rx: 10, ry: 10 }, pillBBg: { width: 84, height: 20, rx: 10, ry: 10 },
        pillAText: { x: 42, y: 14, fontSize: 11, textAnchor: "middle" },
        pillBText: { x: 42, y: 14, fontSize: 11, textAnchor: "middle" },
        badge: { display: "none", cursor: "help" },
        badgeDot: { cx: -2, cy: 2, r: 9 },
        badgeText: { x: -2, y: 6.5, fontSize: 12, fontWeight: 700, textAnchor: "middle", text: "!" },
      },
      ports: {
        groups: {
          in: {
            position: "absolute",
            label: { position: "right" },
            attrs: { circle: { r: 6, magnet: "passive", class: "sb-port sb-port-in" }, text: { fontSize: 10, fill: "#6b7385" } },
          },
          out: {
            position: "absolute",
            label: { position: "left" },
            attrs: { circle: { r: 6, magnet: true, class: "sb-port sb-port-out" }, text: { fontSize: 10, fill: "#6b7385" } },
          },
        },
      },
    }, true);
    X6.Graph.registerEdge("sb-edge", {
      inherit: "edge",
      attrs: { line: { stroke: "#8a94a6", strokeWidth: 2, targetMarker: { name: "block", width: 8, height: 6 } } },
      connector: { name: "smooth" },
    }, true);
  }

  // Title, subtitle, trigger URL and buttons, run status and problem badge: derived from the
  // node's data and the editor state, never stored (attrs are left out of undo and of saving).
  S.refreshNode = function (node) {
    const data = node.getData() || {};
    const entry = S.entry(data.type);
    const { width, height } = node.getSize();
    const rowsEnd = node.getSize().height - (entry.is_trigger ? TRIGGER_ROWS : 8);
    const title = data.name || entry.title;
    const step = SB.run && SB.run.stepFor(node.id);
    const titleMax = (entry.is_trigger ? 23 : 21) - (step ? 8 : 0); // leave room for the run status
    const summary = S.summary(data);
    const attrs = {
      body: { width, height },
      accent: { class: `sb-accent cat-${entry.category}`, height },
      title: { text: truncate(title, titleMax), title },
      subtitle: { text: truncate(summary, entry.is_trigger ? 31 : 28), title: summary },
      url: { display: "none" }, pillA: { display: "none" }, pillB: { display: "none" },
    };
    const kind = S.triggerKind(data.type);
    if (kind.scheduled) {
      // What it does and its policies are on the node itself; the panel shows the next fires.
      const config = { ...entry.default_config, ...(data.config || {}) };
      const when = config.mode === "interval" ? `every ${config.interval_seconds} s` : config.cron;
      const zone = config.timezone || "workspace zone";
      const paused = config.enabled === false ? "paused · " : "";
      const off = S.data.schedule_off; // archived: disarmed, so the node says it does not fire
      attrs.url = { display: null, y: HEAD + ROW / 2 + 4,
        text: truncate(off ? "Off: the flow is archived" : `${paused}${when} · ${zone}`, 25),
        title: off ? `${off} (${when}, ${zone})` : `${paused}${when} (${zone})` };
      const y = rowsEnd + 2;
      attrs.pillA = { display: null, transform: `translate(12, ${y})`, title: "Missed runs policy: open the schedule" };
      attrs.pillAText = { text: config.missed_policy === "run_once" ? "missed: once" : "missed: skip" };
      attrs.pillB = { display: null, transform: `translate(102, ${y})`, title: "If still running: open the schedule" };
      attrs.pillBText = { text: config.overlap_policy === "allow" ? "overlap: ok" : "overlap: skip" };
    } else if (entry.is_trigger) {
      const trigger = S.triggers[node.id];
      const saved = trigger && trigger.url;
      const manual = Boolean(kind.runs_here);
      const off = S.data.urls_off; // archived: its URL answers "not found", so nothing offers to copy or run it
      // The URL's tail (the key) is what tells triggers apart; the whole URL is in the tooltip.
      const text = !saved ? (manual ? "Save to run from here" : "URL appears after you save")
        : off ? "Off: the flow is archived"
        : manual ? "Run now from the app" : `POST …/${trigger.url.split("/").pop()}`;
      attrs.url = { display: null, y: HEAD + ROW / 2 + 4, text: truncate(text, 25), title: saved ? (off || trigger.url) : "" };
      if (saved) {
        const y = rowsEnd + 2;
        const runnable = !off && (!manual || S.data.can_run); // a viewer's manual trigger offers its details only
        attrs.pillA = { display: runnable ? null : "none", transform: `translate(12, ${y})`, title: manual ? "Run now from this trigger" : `Copy ${trigger.url}` };
        attrs.pillAText = { text: manual ? "▶ Run" : "Copy URL" };
        attrs.pillB = { display: null, transform: `translate(${runnable ? 102 : 12}, ${y})`, title: manual ? "Details" : "URL, examples and secret" };
        attrs.pillBText = { text: manual || off ? "Details…" : "Examples…" };
      }
    }
    const problems = S.problems.filter((p) => p.node_id === node.id);
    attrs.badge = problems.length
      ? { display: null, transform: `translate(${width - 4}, 4)`, title: problems.map((p) => p.message).join("\n") }
      : { display: "none" };
    attrs.badgeDot = { class: problems.some(isError) ? "is-error" : "is-warning" };
    attrs.status = { text: step ? SB.run.statusText(step) : "", x: width - 12 };
    node.setAttrs(attrs, { skipHistory: true });
    S.decorate(node);
  };

  // Stable hooks and state classes on the node's element (data-node-id, data-status, ...).
  S.decorate = function (node) {
    const view = S.graph.findViewByCell(node);
    if (!view) return;
    const box = view.container;
    const step = SB.run && SB.run.stepFor(node.id);
    box.setAttribute("data-node-id", node.id);
    box.setAttribute("data-type", (node.getData() || {}).type || "");
    if (step) box.setAttribute("data-status", step.status);
    else box.removeAttribute("data-status");
    const problems = S.problems.filter((p) => p.node_id === node.id);
    box.classList.toggle("has-problem", problems.length > 0);
    box.classList.toggle("has-error", problems.some(isError));
    if (problems.length) box.setAttribute("data-problem", problems.map((p) => p.code).join(" "));
    else box.removeAttribute("data-problem");
  };

  // Problems without a severity come from servers older than warnings: they block, so errors.
  const isError = (problem) => (problem.severity || "error") !== "warning";
  S.isError = isError;

  // Edges: red when a problem names them, blue when selected.
  S.refreshEdge = function (edge) {
    const bad = S.problems.some((p) => p.edge_id === edge.id);
    const selected = S.selection && S.selection.isSelected(edge);
    edge.attr("line/stroke", bad ? "#d64545" : selected ? "#2f6df6" : "#8a94a6", { skipHistory: true });
    edge.attr("line/strokeDasharray", bad ? "6 4" : null, { skipHistory: true });
  };

  S.refreshAll = () => {
    S.graph.getNodes().forEach(S.refreshNode);
    S.graph.getEdges().forEach(S.refreshEdge);
  };

  // Make the node's ports match its config (condition branches). Ports and size are derived
  // state, kept out of the undo history; only edges and config are recorded. With `rewire`
  // (an edit in the form) edges follow a renamed port and edges of a removed port are removed,
  // as undoable steps of the caller's batch. A port that edges still use is kept until they
  // move: undo restores edges before the config that declares their port, and X6 would
  // delete the edges of a port that disappears.
  S.syncPorts = function (node, options) {
    const opts = options || {};
    const data = node.getData() || {};
    const declared = geometry(data.type, data.config).ports.map((p) => p.id);
    const outgoing = S.graph.getConnectedEdges(node, { outgoing: true });
    if (opts.rewire) {
      const oldOut = node.getPorts().map((p) => p.id).filter((id) => id.startsWith("out:"));
      const newOut = declared.filter((id) => id.startsWith("out:"));
      for (const edge of outgoing) {
        const port = edge.getSourcePortId();
        if (newOut.includes(port)) continue;
        const index = oldOut.indexOf(port); // a rename keeps the branch's place in the list
        const renamed = index >= 0 && newOut[index] && !oldOut.includes(newOut[index]) ? newOut[index] : null;
        if (renamed) edge.setSource({ cell: node.id, port: renamed }, opts);
        else edge.remove(opts);
      }
    }
    const used = (edges, end) => edges.map((e) => (end === "in" ? e.getTargetPortId() : e.getSourcePortId()))
      .filter((id) => id && !declared.includes(id)).map(portName);
    const extra = {
      in: [...new Set(used(S.graph.getConnectedEdges(node, { incoming: true }), "in"))],
      out: [...new Set(used(S.graph.getConnectedEdges(node, { outgoing: true }), "out"))],
    };
    const want = geometry(data.type, data.config, extra);
    const quiet = { skipHistory: true };
    const size = node.getSize();
    if (size.width !== want.width || size.height !== want.height) node.resize(want.width, want.height, quiet);
    const layout = (ports) => JSON.stringify(ports.map((p) => [p.id, p.args && p.args.y]));
    if (layout(node.getPorts()) !== layout(want.ports)) node.prop("ports/items", want.ports, { ...quiet, rewrite: true });
  };

  // ---- new nodes and edges ------------------------------------------------------------

  // Connections lie under the nodes: drawn on top, a connection's end covered the output dot it
  // leaves from, so a second connection could only be started from a 1-2 px sliver of the dot.
  const NODE_LAYER = 2, EDGE_LAYER = 1;

  function nodeMetadata(doc) {
    const config = doc.config || {};
    const geo = geometry(doc.type, config);
    const data = { type: doc.type, config };
    if (doc.name) data.name = doc.name;
    if (doc.type_version !== undefined) data.type_version = doc.type_version;
    const position = doc.position || { x: 0, y: 0 };
    return { id: doc.id, shape: "sb-node", x: position.x, y: position.y, width: geo.width, height: geo.height,
      zIndex: NODE_LAYER, data, ports: { items: geo.ports } };
  }

  function edgeMetadata(doc) {
    return { id: doc.id, shape: "sb-edge", zIndex: EDGE_LAYER,
      source: { cell: doc.source, port: portId("out", doc.source_port) },
      target: { cell: doc.target, port: portId("in", doc.target_port) } };
  }

  function uniqueId(stem) {
    for (let n = 1; ; n += 1) {
      const id = `${stem}_${n}`;
      if (!S.graph.getCellById(id)) return id;
    }
  }

  const randomKey = () => `flow-${Math.random().toString(36).slice(2, 8).padEnd(6, "0")}`;

  const NAME_MAX = 200; // docs/flow-format.md: a node's name

  // A name no node on the canvas shows yet, so problems and run steps can be told apart: `wanted`
  // while it is free, else the first free "Reply 2", "Reply 3"… (a copy of "Reply 2" is "Reply 3").
  function freeName(wanted) {
    const taken = new Set(S.graph.getNodes().map((n) => S.displayName(n.id).trim().toLowerCase()));
    if (!taken.has(wanted.trim().toLowerCase())) return wanted;
    const stem = wanted.replace(/\s+\d+$/, "") || wanted;
    for (let n = 2; ; n += 1) {
      const suffix = ` ${n}`;
      const name = stem.slice(0, NAME_MAX - suffix.length) + suffix;
      if (!taken.has(name.toLowerCase())) return name;
    }
  }

  // The input that carries the caller's message: the start node's message input when it names
  // a declared text (or object) input, else its first text input; null when there is none.
  S.messageInput = function () {
    const start = S.graph.getNodes().map((n) => n.getData() || {}).find((d) => d.type === "start");
    const inputs = ((start && start.config && start.config.inputs) || []).filter((i) => i && /^[A-Za-z_]\w*$/.test(i.name || ""));
    const chosen = inputs.find((i) => i.name === start.config.message_input && (i.type === "string" || i.type === "object"));
    const input = chosen || inputs.find((i) => i.type === "string");
    return input ? input.name : null;
  };

  // The types' defaults call the message input "message" (the LLM node's first message is
  // {{ inputs.message }}, what a flow sent through the API gets). A node placed on the canvas
  // refers to this flow's message input instead, or leaves the text empty for the person to
  // pick a value, rather than start with a reference to an input the flow does not have.
  const MESSAGE_REFERENCE = /\{\{\s*inputs\.message\s*\}\}/g;
  function fitDefaults(value, message) {
    if (typeof value === "string") {
      const fitted = value.replace(MESSAGE_REFERENCE, message ? `{{ inputs.${message} }}` : "");
      return fitted.trim() ? fitted : "";
    }
    if (Array.isArray(value)) return value.map((item) => fitDefaults(item, message));
    if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fitDefaults(v, message)]));
    return value;
  }

  // A new node of `type` (not yet added): a name of its own once its type's title is taken (a
  // copy: once its name is), defaults that refer to this flow's own inputs, and REST triggers
  // (new_key) a key, so that it validates at once.
  S.newNodeMetadata = function (type, position, template) {
    const entry = S.entry(type);
    const config = template ? clone(template.config || {}) : fitDefaults(clone(entry.default_config || {}), S.messageInput());
    if (S.triggerKind(type).new_key) config.key = randomKey();
    const doc = { id: uniqueId(type), type, type_version: entry.version, config, position };
    const name = freeName((template && template.name) || entry.title);
    if (name !== entry.title || (template && template.name)) doc.name = name;
    return nodeMetadata(doc);
  };

  Object.assign(S, { NODE_WIDTH, EDGE_LAYER, portId, portName, registerShapes, nodeMetadata, edgeMetadata, uniqueId });
})();
