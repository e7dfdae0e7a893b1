// What a node's templates can refer to, and how a reference reads to a person.
// The list comes from the server (POST /api/v1/flows/values, the same rules the validation
// uses), so the browser holds no rule about which values are upstream. This file fetches and
// caches that list, finds the references inside a template, names them ("Start › order") and
// draws them as chips; canvas-picker.js is the popup list that inserts them.
(function () {
  "use strict";
  const SB = (window.Switchboard = window.Switchboard || {});
  const { el } = SB.forms;
  const S = () => SB.canvas;

  const LOAD_ERROR = "Could not load the values";
  const ROOTS = { inputs: "Start", trigger: "Trigger", session: "Conversation", run: "Run" };
  // A dotted path from one of the template variables; not preceded by a dot or a name, so
  // `item.inputs` or `my_nodes.x` are not taken for references.
  const REF = /(?<![\w.\]])(inputs|nodes|trigger|session|run)((?:\s*\.\s*[A-Za-z_]\w*|\[\s*(?:\d+|'[^'\n]*'|"[^"\n]*")\s*\])+)/g;
  const BLOCK = /\{\{[\s\S]*?\}\}|\{%[\s\S]*?%\}/g;

  // ---- the list of available values ---------------------------------------------------

  const cache = new Map(); // node id -> {key, promise}

  // The values at a node do not depend on the node's own settings nor on positions, so
  // typing in one of its fields or dragging nodes around does not ask the server again.
  function cacheKey(doc, nodeId) {
    const nodes = (doc.nodes || []).map((n) => ({ ...n, position: undefined, config: n.id === nodeId ? undefined : n.config }));
    return JSON.stringify({ nodes, edges: doc.edges });
  }

  /** Resolve to {values: [...]} or {error: "Could not load the values"}; never rejects. */
  function load(nodeId) {
    let doc;
    try { doc = S().toDocument(); } catch (err) { return Promise.resolve({ error: LOAD_ERROR }); }
    const key = cacheKey(doc, nodeId);
    const hit = cache.get(nodeId);
    if (hit && hit.key === key) return hit.promise;
    const promise = S().api("POST", "/api/v1/flows/values", { document: doc, node_id: nodeId }).then((result) => {
      const values = result.status === 200 && result.body && result.body.values;
      if (Array.isArray(values)) return { values: values.filter((v) => v && typeof v.expression === "string") };
      cache.delete(nodeId); // ask again next time
      return { error: LOAD_ERROR };
    }, () => {
      cache.delete(nodeId);
      return { error: LOAD_ERROR };
    });
    cache.set(nodeId, { key, promise });
    return promise;
  }

  // ---- references inside a template ----------------------------------------------------

  // nodes['a b'].x[0] -> nodes.a b.x[0]: one spelling per reference, to compare with the list.
  function normalize(raw) {
    return raw.replace(/\s+/g, "").replace(/\[(['"])(.*?)\1\]/g, ".$2");
  }

  /** The distinct references a template uses, in order: ["inputs.order", "nodes.t1.text"]. */
  function references(text) {
    const found = [];
    for (const block of String(text || "").match(BLOCK) || []) {
      for (const match of block.matchAll(REF)) {
        const path = normalize(match[0]);
        if (!found.includes(path)) found.push(path);
      }
    }
    return found;
  }

  const segments = (path) => path.split(/\.|(?=\[)/).filter(Boolean);

  function nodeName(id) {
    if (S().displayName) return S().displayName(id);
    const node = S().graph && S().graph.getCellById(id);
    if (!node || !node.isNode()) return id;
    const data = node.getData() || {};
    return data.name || (S().entry(data.type) || {}).title || id;
  }

  function startName() {
    const start = S().graph ? S().graph.getNodes().find((n) => (n.getData() || {}).type === "start") : null;
    return start ? nodeName(start.id) : ROOTS.inputs;
  }

  /** "nodes.t1.text" -> "Compose › text", without asking the server (names from the canvas). */
  function plainPath(path) {
    const parts = segments(path);
    if (parts[0] === "nodes") return [nodeName(parts[1] || "")].concat(parts.slice(2)).join(" › ");
    const head = parts[0] === "inputs" ? startName() : ROOTS[parts[0]] || parts[0];
    return [head].concat(parts.slice(1)).join(" › ");
  }

  /**
   * Read a reference with the list of values: {label, missing}. A reference that no value
   * covers is missing when the node or input it names is not available here; a deeper field
   * of an available node (one the list does not spell out) is shown by name, not as missing.
   */
  function resolve(path, values) {
    let best = null;
    let bestLength = -1;
    for (const value of values) {
      const e = normalize(value.expression);
      if ((path === e || path.startsWith(`${e}.`) || path.startsWith(`${e}[`)) && e.length > bestLength) {
        best = value;
        bestLength = e.length;
      }
    }
    if (best) {
      const rest = segments(path.slice(bestLength));
      return { label: [best.label].concat(rest).join(" › "), missing: false };
    }
    const parts = segments(path);
    const anchor = parts[0] === "nodes" ? `nodes.${parts[1]}` : parts[0] === "run" ? null : parts.slice(0, 2).join(".");
    const listed = values.map((v) => normalize(v.expression));
    const rootListed = listed.some((e) => segments(e)[0] === parts[0]);
    const anchorListed = anchor && listed.some((e) => e === anchor || e.startsWith(`${anchor}.`));
    const mustBeListed = parts[0] === "nodes" || parts[0] === "inputs" || (rootListed && parts[0] !== "run");
    if (parts[0] === "nodes" && anchorListed) return { label: plainPath(path), missing: false };
    const missing = mustBeListed && !anchorListed;
    // A node still on the canvas that is not listed does not run before this one (it runs later, or
    // on another path): say that, rather than "missing", so the person connects it instead of looking for it.
    const later = missing && parts[0] === "nodes" && onCanvas(parts[1]);
    return { label: plainPath(path), missing, later, node: later ? nodeName(parts[1]) : null };
  }

  function onCanvas(nodeId) {
    const cell = S().graph && nodeId ? S().graph.getCellById(nodeId) : null;
    return !!(cell && cell.isNode());
  }

  // ---- last values from the latest run (S.lastRun, set by the run code) ------------------

  function walk(value, parts) {
    for (const part of parts) {
      const key = part.startsWith("[") ? Number(part.slice(1, -1)) : part;
      if (value === null || typeof value !== "object" || !Object.prototype.hasOwnProperty.call(value, key)) return { found: false };
      value = value[key];
    }
    return { found: true, value };
  }

  /** {found, value} of an expression in the last run, when the run has it. */
  function lastValue(value) {
    const run = S().lastRun;
    if (!run || !value) return { found: false };
    const parts = segments(value.expression);
    const outputs = run.outputs || {};
    if (parts[0] === "nodes" && Object.prototype.hasOwnProperty.call(outputs, parts[1])) return walk(outputs[parts[1]], parts.slice(2));
    if (parts[0] === "inputs") {
      if (run.inputs && typeof run.inputs === "object") return walk(run.inputs, parts.slice(1));
      if (value.node_id && Object.prototype.hasOwnProperty.call(outputs, value.node_id)) return walk(outputs[value.node_id], parts.slice(1));
    }
    return { found: false };
  }

  function shortText(value, limit) {
    let text = typeof value === "string" ? `“${value}”` : JSON.stringify(value);
    if (text === undefined) text = String(value);
    text = text.replace(/\s+/g, " ");
    return text.length > limit ? `${text.slice(0, limit - 1)}…` : text;
  }

  // ---- chips ---------------------------------------------------------------------------

  // How one reference reads, wherever it is drawn (the chips under a field and the field's read
  // view share it, so a value never has two names): its words, the tooltip, and its kind.
  function describe(path, resolved) {
    if (resolved.later) {
      return { kind: "later", text: `runs later: ${resolved.label}`,
        title: `${resolved.node} does not run before this step, so its result is not available here: `
          + `pick another value or connect ${resolved.node} before this step.` };
    }
    if (resolved.missing) {
      return { kind: "missing", text: `missing: ${resolved.label}`,
        title: `{{ ${path} }} is not available at this node: pick another value or connect the node it comes from.` };
    }
    return { kind: "", text: resolved.label, title: `{{ ${path} }}` };
  }

  // A node that runs later is also not available here (is-missing), but amber: it is on the canvas, only misplaced.
  function chipClass(base, kind) {
    return base + (kind ? " is-missing" : "") + (kind === "later" ? " is-later" : "");
  }

  function chip(path, resolved) {
    const { kind, text, title } = describe(path, resolved);
    return el("span", { class: chipClass("value-chip", kind), "data-expression": path, title, text });
  }

  // Read each reference with the node's values once they are loaded; until then (or when
  // they cannot load) by the names on the canvas.
  const provisional = (path) => ({ label: plainPath(path), missing: false });

  /** Draw the references of `text` into `box` as chips; resolves once they are final. */
  async function drawChips(box, text, nodeId) {
    box.dataset.text = text;
    box.dataset.state = "loading";
    const paths = references(text);
    box.hidden = !paths.length;
    if (!paths.length) { box.replaceChildren(); box.dataset.state = "resolved"; return; }
    if (!box.childElementCount) box.replaceChildren(...paths.map((p) => chip(p, provisional(p))));
    const result = nodeId ? await load(nodeId) : { error: LOAD_ERROR };
    if (box.dataset.text !== text) return; // a newer draw is on its way
    box.replaceChildren(...paths.map((p) => chip(p, result.values ? resolve(p, result.values) : provisional(p))));
    box.dataset.state = result.values ? "resolved" : "unresolved";
  }

  // ---- the read view: the template as words with its values inline ---------------------

  // One whole {{ reference }} and nothing else (Jinja's {{- -}} trims allowed).
  const SIMPLE = new RegExp(`^\\{\\{-?\\s*(${REF.source})\\s*-?\\}\\}$`);

  /** The template in pieces: {text} as written, {path} of a plain reference, {code} of anything else in braces. */
  function pieces(text) {
    const out = [];
    let at = 0;
    for (const match of String(text || "").matchAll(BLOCK)) {
      if (match.index > at) out.push({ text: text.slice(at, match.index) });
      const simple = match[0].match(SIMPLE);
      out.push(simple ? { path: normalize(simple[1]) } : { code: match[0] });
      at = match.index + match[0].length;
    }
    if (at < String(text || "").length) out.push({ text: text.slice(at) });
    return out;
  }

  // Built from text nodes and textContent only: what a person typed is never read as HTML.
  function readingNodes(list, values) {
    return list.map((piece) => {
      if (piece.text !== undefined) return document.createTextNode(piece.text);
      if (piece.code !== undefined) return el("span", { class: "read-chip is-code", text: piece.code });
      const { kind, text } = describe(piece.path, values ? resolve(piece.path, values) : provisional(piece.path));
      return el("span", { class: chipClass("read-chip", kind), "data-expression": piece.path, text });
    });
  }

  /** Draw `text` into `box` as its read view (text, value chips, code chips); resolves once final. */
  async function drawReading(box, text, nodeId) {
    box.dataset.text = text;
    box.dataset.state = "loading";
    const list = pieces(text);
    const line = box.firstElementChild || box.appendChild(el("span", { class: "template-read-text" }));
    line.replaceChildren(...readingNodes(list, null));
    if (!list.some((piece) => piece.path)) { box.dataset.state = "resolved"; return; }
    const result = nodeId ? await load(nodeId) : { error: LOAD_ERROR };
    if (box.dataset.text !== text) return; // a newer draw is on its way
    line.replaceChildren(...readingNodes(list, result.values || null));
    box.dataset.state = result.values ? "resolved" : "unresolved";
  }

  SB.values = { load, references, resolve, plainPath, lastValue, shortText, drawChips, drawReading, pieces, LOAD_ERROR };
})();
