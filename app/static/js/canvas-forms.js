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

  const singular = (title) => (title || "Item").replace(/(es|s)$/, "");
  const humanize = (value) => String(value).replace(/_/g, " ");

  // ---- the form -----------------------------------------------------------------------

  /**
   * Render a node's form into `container`.
   * options: schema, config, name, namePlaceholder, readOnly,
   *          onInput(config, name) while typing, onCommit(config, name) when a change is done.
   * Returns {showProblems(problems)}.
   */
  function render(container, options) {
    const schema = options.schema || { type: "object", properties: {} };
    const working = clone(options.config) || {};
    let name = options.name || "";
    const readOnly = !!options.readOnly;
    const refreshers = []; // widgets whose options depend on other fields (message input)
    let problems = [];

    const emitInput = () => {
      refreshers.forEach((refresh) => refresh());
      options.onInput && options.onInput(clone(working), name);
    };
    const emitCommit = () => options.onCommit && options.onCommit(clone(working), name);

    // Structural changes (add / remove / reorder) redraw the whole form from `working`.
    function redraw() {
      const scroll = container.scrollTop;
      refreshers.length = 0;
      container.replaceChildren(build());
      container.scrollTop = scroll;
      applyProblems();
    }

    function build() {
      const form = el("form", { class: "node-form", novalidate: true, onsubmit: (e) => e.preventDefault() });
      form.append(el("div", { class: "form-problems", "data-path": "" }));
      const nameInput = el("input", {
        type: "text", value: name, placeholder: options.namePlaceholder || "", maxlength: 200,
        disabled: readOnly, "data-field": "name",
        oninput: (e) => { name = e.target.value; emitInput(); },
        onchange: emitCommit,
      });
      form.append(el("div", { class: "field", "data-path": "name" },
        el("label", {}, el("span", { class: "label", text: "Name on the canvas" }), nameInput)));
      const props = objectFields(schema, []);
      if (props.childElementCount) form.append(props);
      else form.append(el("p", { class: "muted small", text: "This node has no settings." }));
      return form;
    }

    function objectFields(objSchema, parts) {
      const box = el("div", { class: "fields" });
      const required = new Set(objSchema.required || []);
      const props = objSchema.properties || {};
      // "x-order" keeps the declared order: the JSON on its way here may have sorted keys.
      const order = (objSchema["x-order"] || []).filter((key) => key in props);
      for (const key of order.concat(Object.keys(props).filter((key) => !order.includes(key)))) {
        box.append(field(props[key], parts.concat(key), required.has(key), objSchema));
      }
      return box;
    }

    function labelFor(prop, parts, required) {
      const title = prop.title || humanize(parts[parts.length - 1]);
      return el("span", { class: "label" }, title, required ? el("span", { class: "req", title: "required", text: " *" }) : null);
    }

    function help(prop) {
      return prop.description ? el("small", { class: "help", text: prop.description }) : null;
    }

    function wrap(parts, ...children) {
      return el("div", { class: "field", "data-path": pathString(parts) }, ...children);
    }

    function field(prop, parts, required, parentSchema) {
      const value = getAt(working, parts);
      if (prop.type === "array" && prop.items && prop.items.type === "object") return listField(prop, parts, required);
      if (prop.type === "object" && prop.properties) {
        return wrap(parts, el("fieldset", {}, el("legend", {}, labelFor(prop, parts, required)), help(prop),
          objectFields(prop, parts)));
      }
      if (prop.type === "object" && prop.additionalProperties && typeof prop.additionalProperties === "object") {
        return keyValueField(prop, parts, required);
      }
      if (prop.type === "boolean") {
        const box = el("input", {
          type: "checkbox", checked: value === undefined ? !!prop.default : !!value, disabled: readOnly,
          "data-field": pathString(parts),
          onchange: (e) => { setAt(working, parts, e.target.checked); emitInput(); emitCommit(); },
        });
        return wrap(parts, el("label", { class: "check" }, box, labelFor(prop, parts, required)), help(prop));
      }
      const control = prop.enum ? enumControl(prop, parts, value, required, parentSchema)
        : prop["x-widget"] === "input-select" ? inputSelectControl(parts, value)
        : prop["x-widget"] === "credential" ? credentialControl(parts, value)
        : prop.type === undefined ? freeValueControl(parts, value, parentSchema)
        : prop.type === "array" || prop.type === "object" ? jsonControl(parts, value)
        : textControl(prop, parts, value, required);
      return wrap(parts, el("label", {}, labelFor(prop, parts, required), control), help(prop));
    }

    function textControl(prop, parts, value, required) {
      const numeric = prop.type === "number" || prop.type === "integer";
      const multiLine = prop["x-widget"] === "template";
      const mono = multiLine || prop["x-widget"] === "template-inline";
      const attrs = {
        class: mono ? "mono" : null, disabled: readOnly, "data-field": pathString(parts),
        placeholder: prop.default !== undefined && prop.default !== "" ? `default: ${prop.default}` : null,
        maxlength: prop.maxLength, min: prop.minimum, max: prop.maximum,
        step: prop.type === "integer" ? 1 : numeric ? "any" : null,
        spellcheck: mono ? "false" : null,
        oninput: (e) => { setAt(working, parts, parse(e.target.value)); emitInput(); },
        onchange: emitCommit,
      };
      // Numbers that do not parse are kept as text so the server can name the mistake.
      function parse(raw) {
        if (numeric) {
          if (raw.trim() === "") return undefined;
          const number = Number(raw);
          return Number.isFinite(number) ? number : raw;
        }
        return raw === "" && !required ? undefined : raw;
      }
      if (prop["x-widget"] === "cron" && SB.cron) {
        // The cron picker writes the expression, which stays editable as text (canvas-cron.js).
        const input = el("input", { ...attrs, class: "mono", type: "text", value: value === undefined ? "" : String(value) });
        const cron = SB.cron.picker(input, {
          readOnly,
          onPick: (expression) => { setAt(working, parts, expression); emitInput(); emitCommit(); },
        });
        input.addEventListener("input", () => cron.sync());
        return el("span", { class: "cron-field" }, cron.element, input);
      }
      if (multiLine) {
        const area = el("textarea", { ...attrs, rows: 4 });
        area.value = value === undefined ? "" : String(value);
        return area;
      }
      return el("input", { ...attrs, type: numeric ? "number" : "text", value: value === undefined ? "" : String(value) });
    }

    function enumControl(prop, parts, value, required, parentSchema) {
      // A start input's type decides how its untyped default is edited: redraw on change.
      const shapesSiblings = Object.values((parentSchema && parentSchema.properties) || {}).some((p) => p.type === undefined && !p.enum);
      const select = el("select", {
        disabled: readOnly, "data-field": pathString(parts),
        onchange: (e) => {
          setAt(working, parts, e.target.value === "" ? undefined : e.target.value);
          emitInput(); emitCommit();
          if (shapesSiblings) redraw();
        },
      });
      if (!required || value === undefined) {
        select.append(el("option", { value: "", text: prop.default !== undefined ? `(default: ${humanize(prop.default)})` : "(not set)" }));
      }
      for (const option of prop.enum) {
        select.append(el("option", { value: option, selected: option === value, text: humanize(option) }));
      }
      return select;
    }

    // A select whose options are the start node's declared inputs (message_input).
    function inputSelectControl(parts, value) {
      const select = el("select", {
        disabled: readOnly, "data-field": pathString(parts),
        onchange: (e) => { setAt(working, parts, e.target.value === "" ? undefined : e.target.value); emitInput(); emitCommit(); },
      });
      const fill = () => {
        const current = getAt(working, parts);
        const names = (working.inputs || []).map((input) => input && input.name).filter(Boolean);
        if (current && !names.includes(current)) names.push(current); // keep a stale choice visible
        select.replaceChildren(el("option", { value: "", text: "(none)" }),
          ...names.map((n) => el("option", { value: n, selected: n === current, text: n })));
      };
      fill();
      refreshers.push(fill);
      return select;
    }

    // A workspace credential, chosen by name; the names come with the page (never the secrets).
    function credentialControl(parts, value) {
      const names = (options.credentials || []).slice();
      if (value && !names.includes(value)) names.push(value); // keep a deleted one visible: the server names it
      const select = el("select", {
        disabled: readOnly, "data-field": pathString(parts),
        onchange: (e) => { setAt(working, parts, e.target.value === "" ? undefined : e.target.value); emitInput(); emitCommit(); },
      });
      select.append(el("option", { value: "", text: names.length ? "(none)" : "(none: add one under Credentials)" }),
        ...names.map((n) => el("option", { value: n, selected: n === value, text: n })));
      return select;
    }

    // An untyped value (a start input's default): read it as the type chosen next to it.
    function freeValueControl(parts, value, parentSchema) {
      const typeOf = () => getAt(working, parts.slice(0, -1).concat("type")) || "string";
      if (typeOf() === "boolean") {
        const select = el("select", {
          disabled: readOnly, "data-field": pathString(parts),
          onchange: (e) => { setAt(working, parts, e.target.value === "" ? undefined : e.target.value === "true"); emitInput(); emitCommit(); },
        });
        for (const [v, label] of [["", "(no default)"], ["true", "true"], ["false", "false"]]) {
          select.append(el("option", { value: v, selected: String(value) === v || (v === "" && value === undefined), text: label }));
        }
        return select;
      }
      const shown = value === undefined ? "" : typeof value === "string" ? value : JSON.stringify(value);
      return el("input", {
        type: "text", value: shown, disabled: readOnly, "data-field": pathString(parts), class: "mono",
        placeholder: "(no default)",
        oninput: (e) => { setAt(working, parts, readValue(e.target.value, typeOf())); emitInput(); },
        onchange: emitCommit,
      });
    }

    // Lists of plain values and free-form objects: edited as JSON.
    function jsonControl(parts, value) {
      const area = el("textarea", {
        class: "mono", rows: 3, disabled: readOnly, "data-field": pathString(parts), spellcheck: "false",
        placeholder: "JSON, e.g. [\"a\", \"b\"]",
        oninput: (e) => { setAt(working, parts, readValue(e.target.value, "json")); emitInput(); },
        onchange: emitCommit,
      });
      area.value = value === undefined ? "" : JSON.stringify(value, null, 2);
      return area;
    }

    function readValue(raw, type) {
      if (raw === "") return undefined;
      if (type === "string") return raw;
      try { return JSON.parse(raw); } catch (err) { return raw; } // the server names the mismatch
    }

    // Repeatable group: start inputs, condition branches and their conditions.
    function listField(prop, parts, required) {
      const items = Array.isArray(getAt(working, parts)) ? getAt(working, parts) : [];
      const noun = singular(prop.title);
      const list = el("div", { class: "list" });
      items.forEach((item, index) => {
        const itemParts = parts.concat(index);
        const tools = readOnly ? null : el("span", { class: "item-tools" },
          el("button", { type: "button", class: "icon", title: "Move up", "aria-label": `Move ${noun} ${index + 1} up`, disabled: index === 0,
            onclick: () => move(parts, index, -1) }, "↑"),
          el("button", { type: "button", class: "icon", title: "Move down", "aria-label": `Move ${noun} ${index + 1} down`,
            disabled: index === items.length - 1, onclick: () => move(parts, index, 1) }, "↓"),
          el("button", { type: "button", class: "icon danger", title: `Remove this ${noun.toLowerCase()}`,
            "aria-label": `Remove ${noun} ${index + 1}`, "data-action": "remove-item",
            disabled: prop.minItems && items.length <= prop.minItems, onclick: () => removeItem(parts, index) }, "✕"));
        const summary = item && (item.name || item.port || item.label);
        list.append(el("div", { class: "list-item", "data-path": pathString(itemParts) },
          el("div", { class: "list-item-head" },
            el("strong", { text: `${noun} ${index + 1}` }), summary ? el("span", { class: "muted", text: ` · ${summary}` }) : null, tools),
          objectFields(prop.items, itemParts)));
      });
      const add = readOnly ? null : el("button", {
        type: "button", class: "add", "data-action": "add-item", "data-list": pathString(parts),
        disabled: prop.maxItems && items.length >= prop.maxItems,
        onclick: () => addItem(prop, parts, items),
      }, `+ Add ${noun.toLowerCase()}`);
      return el("div", { class: "field list-field", "data-path": pathString(parts) },
        el("div", { class: "list-title" }, labelFor(prop, parts, required)), help(prop),
        items.length ? list : el("p", { class: "muted small", text: `No ${prop.title ? prop.title.toLowerCase() : "items"} yet.` }), add);
    }

    function addItem(prop, parts, items) {
      const item = defaultFor(prop.items);
      // Names and ports must be unique and match a pattern: suggest one instead of leaving "".
      for (const key of ["name", "port"]) {
        if (item && item[key] === "") {
          const stem = singular(prop.title).toLowerCase().replace(/[^a-z0-9_]/g, "_");
          let n = items.length + 1;
          while (items.some((other) => other && other[key] === `${stem}_${n}`)) n += 1;
          item[key] = `${stem}_${n}`;
        }
      }
      setAt(working, parts, items.concat([item]));
      emitInput(); emitCommit(); redraw();
    }

    function removeItem(parts, index) {
      const items = getAt(working, parts).slice();
      items.splice(index, 1);
      setAt(working, parts, items);
      emitInput(); emitCommit(); redraw();
    }

    function move(parts, index, delta) {
      const items = getAt(working, parts).slice();
      [items[index], items[index + delta]] = [items[index + delta], items[index]];
      setAt(working, parts, items);
      emitInput(); emitCommit(); redraw();
    }

    // Key/value list (reply data): rows stay in the DOM; the object is rebuilt from them.
    function keyValueField(prop, parts, required) {
      const rows = el("div", { class: "kv-rows" });
      const valueSchema = prop.additionalProperties;
      const mono = valueSchema["x-widget"] === "template" || valueSchema["x-widget"] === "template-inline";
      const sync = () => {
        const object = {};
        rows.querySelectorAll(".kv-row").forEach((row) => {
          const key = row.querySelector(".kv-key").value;
          if (key !== "") object[key] = row.querySelector(".kv-value").value; // unnamed rows wait for a name
        });
        setAt(working, parts, Object.keys(object).length ? object : undefined);
        emitInput();
      };
      const addRow = (key, value) => {
        const row = el("div", { class: "kv-row" },
          el("input", { class: "kv-key", type: "text", value: key, placeholder: (prop.propertyNames && prop.propertyNames.title) || "name",
            "aria-label": "Field name", disabled: readOnly, oninput: sync, onchange: emitCommit }),
          el("input", { class: `kv-value${mono ? " mono" : ""}`, type: "text", value, placeholder: valueSchema.title || "value",
            "aria-label": "Field value", disabled: readOnly, oninput: sync, onchange: emitCommit }),
          readOnly ? null : el("button", { type: "button", class: "icon danger", title: "Remove", "aria-label": "Remove field",
            onclick: () => { row.remove(); sync(); emitCommit(); } }, "✕"));
        rows.append(row);
        return row;
      };
      for (const [key, value] of Object.entries(getAt(working, parts) || {})) addRow(key, value);
      const add = readOnly ? null : el("button", {
        type: "button", class: "add", "data-action": "add-row",
        onclick: () => addRow("", "").querySelector(".kv-key").focus(),
      }, "+ Add field");
      return el("div", { class: "field kv-field", "data-path": pathString(parts) },
        el("div", { class: "list-title" }, labelFor(prop, parts, required)), help(prop), rows, add);
    }

    // ---- problems next to fields ------------------------------------------------------

    function applyProblems() {
      container.querySelectorAll(".field-problem").forEach((node) => node.remove());
      container.querySelectorAll(".has-problem").forEach((node) => node.classList.remove("has-problem"));
      for (const problem of problems) {
        const target = closestField(problem.path || "");
        target.classList.add("has-problem");
        const message = el("p", { class: "field-error field-problem", role: "alert", text: problem.message });
        const head = target.querySelector(":scope > label, :scope > .list-title, :scope > .list-item-head, :scope > fieldset > legend");
        if (head) head.after(message);
        else target.append(message);
      }
    }

    // The field a problem path points at, or its closest existing ancestor, or the top.
    function closestField(path) {
      for (let current = path; current; current = parentPath(current)) {
        const found = container.querySelector(`[data-path="${CSS.escape(current)}"]`);
        if (found) return found;
      }
      return container.querySelector(".form-problems");
    }

    redraw();
    return {
      showProblems(list) { problems = list || []; applyProblems(); },
    };
  }

  SB.forms = { render, clone, el, pathString };
})();
