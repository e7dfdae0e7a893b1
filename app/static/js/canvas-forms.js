// Config forms generated from a node type's JSON Schema (the registry's config_schema).
// The server validates the same schema on save; this file only renders fields, keeps the
// node's config in sync and shows the server's problems next to the field they name.
(function () {
  "use strict";
  const SB = (window.Switchboard = window.Switchboard || {});

  // ---- small helpers ------------------------------------------------------------------

  const clone = (value) => (value === undefined ? undefined : JSON.parse(JSON.stringify(value)));

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child !== null && child !== undefined && child !== false) {
        node.append(child instanceof Node ? child : document.createTextNode(String(child)));
      }
    }
    return node;
  }

  // ["inputs", 0, "name"] -> "config.inputs[0].name", the server's problem path format.
  function pathString(parts) {
    return parts.reduce((acc, part) => (typeof part === "number" ? `${acc}[${part}]` : `${acc}.${part}`), "config");
  }

  // "config.inputs[0].name" -> "config.inputs[0]": used to find the closest field that exists.
  function parentPath(path) {
    const match = path.match(/^(.*)(\.[^.[\]]+|\[\d+\])$/);
    return match ? match[1] : null;
  }

  function getAt(root, parts) {
    return parts.reduce((value, part) => (value === undefined || value === null ? undefined : value[part]), root);
  }

  // Set a value inside the config; undefined removes the key, so optional settings left
  // empty are omitted and the server's defaults apply.
  function setAt(root, parts, value) {
    let target = root;
    for (let i = 0; i < parts.length - 1; i += 1) {
      if (target[parts[i]] === undefined || target[parts[i]] === null) {
        target[parts[i]] = typeof parts[i + 1] === "number" ? [] : {};
      }
      target = target[parts[i]];
    }
    const last = parts[parts.length - 1];
    if (value === undefined && !Array.isArray(target)) delete target[last];
    else target[last] = value;
  }

  // A fresh value for a new list item: defaults, then the minimum a valid item needs.
  function defaultFor(schema) {
    if (!schema) return undefined;
    if ("default" in schema) return clone(schema.default);
    if (schema.enum) return schema.enum[0];
    switch (schema.type) {
      case "object": {
        const value = {};
        const props = schema.properties || {};
        for (const key of schema.required || []) value[key] = defaultFor(props[key]);
        for (const [key, prop] of Object.entries(props)) {
          if (!(key in value) && "default" in prop) value[key] = clone(prop.default);
        }
        return value;
      }
      case "array":
        return Array.from({ length: schema.minItems || 0 }, () => defaultFor(schema.items));
      case "string":
        return "";
      case "number":
      case "integer":
        return schema.minimum !== undefined ? schema.minimum : 0;
      case "boolean":
        return false;
      default:
        return undefined;
    }
  }

  // "Branches" → "Branch", "Entries" → "Entry", "Messages" → "Message", "Cases" → "Case".
  // Only for a list whose schema names no item title (flows/nodes/schema_parts.py, same rule).
  const singular = (title) => {
    const plural = title || "Items";
    if (/(ch|sh|ss|x)es$/i.test(plural)) return plural.slice(0, -2);
    if (/ies$/i.test(plural)) return plural.slice(0, -3) + "y";
    return /[^s]s$/i.test(plural) ? plural.slice(0, -1) : plural;
  };
  // The name of one item of a list setting ("Condition" in "Condition 2"): the schema's
  // "x-item-title", which the server's messages read too ("Branch 2 › Condition 2 › Value"),
  // so a form and a message never name the same item differently.
  const itemTitle = (prop) => {
    const named = prop && prop["x-item-title"];
    return typeof named === "string" && named ? named : singular(prop && prop.title);
  };
  const humanize = (value) => String(value).replace(/_/g, " ");

  // ---- the form -----------------------------------------------------------------------
  // A rendered form is a small state object `f` shared by the functions below and by the
  // field widgets in canvas-form-fields.js: the schema, the config being edited (`working`),
  // the node name, and the callbacks that tell the canvas about changes.

  /**
   * Render a node's form into `container`.
   * options: schema, config, name, namePlaceholder, readOnly,
   *          onInput(config, name) while typing, onCommit(config, name) when a change is done,
   *          checking() true while a check of the latest change is still on its way.
   * Returns {showProblems(problems), settle()}.
   */
  function render(container, options) {
    const f = {
      container, options,
      schema: options.schema || { type: "object", properties: {} },
      working: clone(options.config) || {},
      name: options.name || "",
      readOnly: !!options.readOnly,
      refreshers: [], // widgets whose options depend on other fields (message input)
      problems: [],
    };
    f.emitInput = () => {
      f.refreshers.forEach((refresh) => refresh());
      options.onInput && options.onInput(clone(f.working), f.name);
    };
    f.emitCommit = () => options.onCommit && options.onCommit(clone(f.working), f.name);
    f.redraw = () => redraw(f);
    f.redraw();
    watchTyping(f);
    return {
      showProblems(list) { f.problems = list || []; applyProblems(f); },
      // The person pressed Save: they are done typing, so the next problems show in full at once.
      settle() { if (f.typing) clearTimeout(f.typing.timer); f.typing = null; },
    };
  }

  // Structural changes (add / remove / reorder) redraw the whole form from `working`.
  function redraw(f) {
    const scroll = f.container.scrollTop;
    f.refreshers.length = 0;
    f.container.replaceChildren(build(f));
    f.container.scrollTop = scroll;
    applyProblems(f);
  }

  function build(f) {
    const form = el("form", { class: "node-form", novalidate: true, onsubmit: (e) => e.preventDefault() });
    form.append(el("div", { class: "form-problems", "data-path": "" }));
    const nameInput = el("input", {
      type: "text", value: f.name, placeholder: f.options.namePlaceholder || "", maxlength: 200,
      disabled: f.readOnly, "data-field": "name",
      oninput: (e) => { f.name = e.target.value; f.emitInput(); },
      onchange: f.emitCommit,
    });
    form.append(el("div", { class: "field", "data-path": "name" },
      el("label", {}, el("span", { class: "label", text: "Name on the canvas" }), nameInput)));
    const props = SB.formFields.objectFields(f, f.schema, []);
    if (props.childElementCount) form.append(props);
    else form.append(el("p", { class: "muted small", text: "This node has no settings." }));
    return form;
  }

  // ---- problems next to fields --------------------------------------------------------

  // The field a person is typing in keeps quiet until they pause or leave it: half a value
  // ("Hello {{") is not a mistake yet, and a red parser message at every key was alarming.
  const PAUSE_MS = 1000;
  const UNFINISHED = "Unfinished value: close it with }} or use Insert value.";

  function watchTyping(f) {
    const settle = () => {
      const typing = f.typing;
      if (!typing || !typing.field.isConnected) return;
      clearTimeout(typing.timer);
      typing.paused = true;
      // The check of the last keys may still be on its way: its answer shows the problems
      // (showProblems); until then the field's old problems would be about text it no longer has.
      if (f.options.checking && f.options.checking()) typing.timer = setTimeout(settle, 300);
      else applyProblems(f);
    };
    f.container.addEventListener("input", (e) => {
      const field = e.target.closest(".field");
      if (!field || f.readOnly) return;
      const fresh = !f.typing || f.typing.field !== field;
      if (f.typing) clearTimeout(f.typing.timer);
      f.typing = { field, paused: false, timer: setTimeout(settle, PAUSE_MS) };
      if (fresh) applyProblems(f); // the field's earlier messages go once it is being changed, not at every key
    });
    f.container.addEventListener("focusout", (e) => {
      if (f.typing && !f.typing.field.contains(e.relatedTarget)) settle();
    });
  }

  // The field being typed in, while its problems are held back (null once they may show).
  function quietField(f) {
    const typing = f.typing;
    if (!typing) return null;
    if (!typing.field.isConnected || (typing.paused && !(f.options.checking && f.options.checking()))) {
      f.typing = null;
      return null;
    }
    return typing.field;
  }

  // An opened {{ with no }} after it: what a value looks like while it is being typed.
  function unfinished(field) {
    return Array.from(field.querySelectorAll("input, textarea")).some((input) => {
      const open = input.value.lastIndexOf("{{");
      return open >= 0 && input.value.indexOf("}}", open + 2) < 0;
    });
  }

  function applyProblems(f) {
    f.container.querySelectorAll(".field-problem").forEach((node) => node.remove());
    f.container.querySelectorAll(".has-problem").forEach((node) => node.classList.remove("has-problem"));
    const quiet = quietField(f);
    for (const problem of f.problems) {
      const target = closestField(f.container, problem.path || "");
      if (quiet && target === quiet) continue;
      // The server names the parser's complaint (and publishing refuses with it); next to the
      // field, an unfinished value gets a hint that says what to do instead.
      const hint = problem.code === "template_syntax_error" && unfinished(target);
      if (!hint) target.classList.add("has-problem");
      const folded = target.closest("details.advanced");
      if (folded) folded.open = true; // a problem is never hidden in a closed group
      const warning = problem.severity === "warning"; // worth a look, never blocking: amber, not red
      const message = hint
        ? el("p", { class: "field-problem field-hint", role: "status", "data-code": problem.code, text: UNFINISHED })
        : el("p", { class: `field-error field-problem${warning ? " is-warning" : ""}`,
          role: warning ? "status" : "alert", "data-code": problem.code, text: problem.message });
      const head = target.querySelector(":scope > label, :scope > .list-title, :scope > .list-item-head, :scope > fieldset > legend");
      if (head) head.after(message);
      else target.append(message);
    }
  }

  // The field a problem path points at, or its closest existing ancestor, or the top.
  function closestField(container, path) {
    for (let current = path; current; current = parentPath(current)) {
      const found = container.querySelector(`[data-path="${CSS.escape(current)}"]`);
      if (found) return found;
    }
    return container.querySelector(".form-problems");
  }

  SB.forms = { render, clone, el, pathString, getAt, setAt, defaultFor, itemTitle, humanize };
})();
