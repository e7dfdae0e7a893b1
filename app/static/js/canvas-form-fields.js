// The field widgets of the config forms (canvas-forms.js renders the form around them).
// Each takes the form's state `f` (its `working` config, `readOnly`, `emitInput`, `emitCommit`,
// `redraw`) and the path `parts` of the value it edits inside the config.
(function () {
  "use strict";
  const SB = (window.Switchboard = window.Switchboard || {});
  const { el, pathString, getAt, setAt, defaultFor, itemTitle, humanize } = SB.forms;

  function objectFields(f, objSchema, parts) {
    const box = el("div", { class: "fields" });
    const required = new Set(objSchema.required || []);
    const props = objSchema.properties || {};
    // "x-order" keeps the declared order: the JSON on its way here may have sorted keys.
    const order = (objSchema["x-order"] || []).filter((key) => key in props);
    const advanced = [];
    for (const key of order.concat(Object.keys(props).filter((key) => !order.includes(key)))) {
      const made = field(f, props[key], parts.concat(key), required.has(key), objSchema);
      if (props[key]["x-advanced"]) advanced.push(made);
      else box.append(made);
    }
    if (advanced.length) box.append(advancedGroup(f, parts, advanced));
    return box;
  }

  // Settings marked "x-advanced" fold under one closed "Advanced" group, so the essentials stand
  // out; it stays open across redraws once opened, and opens itself for a problem inside (canvas-forms.js).
  function advancedGroup(f, parts, fields) {
    const key = pathString(parts);
    f.openGroups = f.openGroups || new Set();
    return el("details", {
      class: "advanced", "data-group": "advanced", open: f.openGroups.has(key),
      ontoggle: (e) => (e.target.open ? f.openGroups.add(key) : f.openGroups.delete(key)),
    }, el("summary", {}, "Advanced", el("span", { class: "muted small", text: ` · ${fields.length} more settings` })),
    el("div", { class: "fields" }, ...fields));
  }

  // The stored values of a choice: "enum", or a "oneOf" of {"const", "title"} options.
  function choices(prop) {
    if (prop.enum) return prop.enum;
    const options = prop.oneOf;
    return Array.isArray(options) && options.length && options.every((o) => o && "const" in o) ? options.map((o) => o.const) : null;
  }

  // The words shown for a stored value: "x-enum-titles", a oneOf option's title, else the value.
  function optionTitle(prop, value) {
    const titles = prop["x-enum-titles"] || {};
    if (Object.prototype.hasOwnProperty.call(titles, value)) return titles[value];
    const option = (prop.oneOf || []).find((o) => o && o.const === value);
    return option && option.title ? option.title : humanize(value);
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

  function field(f, prop, parts, required, parentSchema) {
    const value = getAt(f.working, parts);
    if (prop.type === "array" && prop.items && prop.items.type === "object") return listField(f, prop, parts, required);
    if (prop.type === "object" && prop.properties) {
      return wrap(parts, el("fieldset", {}, el("legend", {}, labelFor(prop, parts, required)), help(prop),
        objectFields(f, prop, parts)));
    }
    if (prop.type === "object" && prop.additionalProperties && typeof prop.additionalProperties === "object") {
      return keyValueField(f, prop, parts, required);
    }
    if (prop.type === "boolean") {
      const box = el("input", {
        type: "checkbox", checked: value === undefined ? !!prop.default : !!value, disabled: f.readOnly,
        "data-field": pathString(parts),
        onchange: (e) => { setAt(f.working, parts, e.target.checked); f.emitInput(); f.emitCommit(); },
      });
      return wrap(parts, el("label", { class: "check" }, box, labelFor(prop, parts, required)), help(prop));
    }
    const control = choices(prop) ? enumControl(f, prop, parts, value, required, parentSchema)
      : prop["x-widget"] === "input-select" ? inputSelectControl(f, parts)
      : prop["x-widget"] === "credential" ? credentialControl(f, parts, value)
      : prop.type === undefined ? freeValueControl(f, parts, value)
      : prop.type === "array" || prop.type === "object" ? jsonControl(f, prop, parts, value)
      : textControl(f, prop, parts, value, required);
    const picker = valuePicker(f, prop, control);
    return wrap(parts, el("label", {}, labelFor(prop, parts, required), picker.field), picker.bar, help(prop));
  }

  const isTemplate = (prop) => prop["x-widget"] === "template" || prop["x-widget"] === "template-inline";

  // Template fields get the value picker, their references as chips and a read view with the
  // references as words (canvas-picker.js): {field} to place instead of the control, {bar} under it.
  function valuePicker(f, prop, control, compact) {
    return isTemplate(prop) && SB.picker ? SB.picker.attach(f, control, compact) : { field: control, bar: null };
  }

  function textControl(f, prop, parts, value, required) {
    const numeric = prop.type === "number" || prop.type === "integer";
    const multiLine = prop["x-widget"] === "template";
    const mono = multiLine || prop["x-widget"] === "template-inline";
    // Numbers that do not parse are kept as text so the server can name the mistake.
    const parse = (raw) => {
      if (!numeric) return raw === "" && !required ? undefined : raw;
      if (raw.trim() === "") return undefined;
      const number = Number(raw);
      return Number.isFinite(number) ? number : raw;
    };
    const attrs = {
      class: mono ? "mono" : null, disabled: f.readOnly, "data-field": pathString(parts),
      placeholder: prop.default !== undefined && prop.default !== "" ? `default: ${prop.default}` : null,
      maxlength: prop.maxLength, min: prop.minimum, max: prop.maximum,
      step: prop.type === "integer" ? 1 : numeric ? "any" : null,
      spellcheck: mono ? "false" : null,
      oninput: (e) => { setAt(f.working, parts, parse(e.target.value)); f.emitInput(); },
      onchange: f.emitCommit,
    };
    const shown = value === undefined ? "" : String(value);
    if (prop["x-widget"] === "cron" && SB.cron) return cronControl(f, parts, { ...attrs, class: "mono", type: "text", value: shown });
    if (multiLine) {
      const area = el("textarea", { ...attrs, rows: 4 });
      area.value = shown;
      return area;
    }
    return el("input", { ...attrs, type: numeric ? "number" : "text", value: shown });
  }

  // The cron picker writes the expression, which stays editable as text (canvas-cron.js).
  function cronControl(f, parts, attrs) {
    const input = el("input", attrs);
    const cron = SB.cron.picker(input, {
      readOnly: f.readOnly,
      onPick: (expression) => { setAt(f.working, parts, expression); f.emitInput(); f.emitCommit(); },
    });
    input.addEventListener("input", () => cron.sync());
    return el("span", { class: "cron-field" }, cron.element, input);
  }

  // A select that sets the value to the chosen option ("" leaves it unset).
  function choice(f, parts, read = (v) => v) {
    return el("select", {
      disabled: f.readOnly, "data-field": pathString(parts),
      onchange: (e) => { setAt(f.working, parts, e.target.value === "" ? undefined : read(e.target.value)); f.emitInput(); f.emitCommit(); },
    });
  }

  function enumControl(f, prop, parts, value, required, parentSchema) {
    // A start input's type decides how its untyped default is edited: redraw on change.
    const shapesSiblings = Object.values((parentSchema && parentSchema.properties) || {}).some((p) => p.type === undefined && !p.enum);
    const select = choice(f, parts);
    if (shapesSiblings) select.addEventListener("change", () => f.redraw());
    if (!required || value === undefined) {
      select.append(el("option", { value: "", text: prop.default !== undefined ? `(default: ${optionTitle(prop, prop.default)})` : "(not set)" }));
    }
    for (const option of choices(prop)) {
      select.append(el("option", { value: option, selected: option === value, text: optionTitle(prop, option) }));
    }
    return select;
  }

  // A select whose options are the start node's declared inputs (message_input).
  function inputSelectControl(f, parts) {
    const select = choice(f, parts);
    const follow = messageFollower(f, parts);
    const fill = () => {
      follow();
      const current = getAt(f.working, parts);
      const names = (f.working.inputs || []).map((input) => input && input.name).filter(Boolean);
      if (current && !names.includes(current)) names.push(current); // keep a stale choice visible
      select.replaceChildren(el("option", { value: "", text: "(none)" }),
        ...names.map((n) => el("option", { value: n, selected: n === current, text: n })));
    };
    fill();
    f.refreshers.push(fill);
    return select;
  }

  // The message input follows the inputs: the first text input becomes it when none is
  // chosen (a chat caller's text then reaches the flow without a second step), renaming
  // the chosen input carries the choice along instead of leaving it on the old name, and
  // removing it drops the choice (to the one text input left, if there is exactly one).
  function messageFollower(f, parts) {
    const inputs = () => (f.working.inputs || []).map((item) => item || {});
    const texts = () => inputs().filter((item) => item.type === "string" && item.name);
    let textsBefore = texts().length;
    let countBefore = inputs().length;
    let linked = inputs().findIndex((item) => item.name === getAt(f.working, parts));
    return () => {
      const list = inputs();
      let current = getAt(f.working, parts);
      const index = current ? list.findIndex((item) => item.name === current) : -1;
      const renamed = current && index < 0 && linked >= 0 && list.length === countBefore && list[linked].name;
      const removed = current && index < 0 && list.length < countBefore;
      if (renamed) setAt(f.working, parts, list[linked].name);
      else if (!current || index >= 0 || list.length !== countBefore) linked = index; // kept while a rename is half typed
      if (removed) { setAt(f.working, parts, undefined); current = undefined; }
      countBefore = list.length;
      const now = texts();
      if (!current && now.length === 1 && (textsBefore === 0 || removed)) {
        setAt(f.working, parts, now[0].name);
        linked = list.indexOf(now[0]);
      }
      textsBefore = now.length;
    };
  }

  // A workspace credential, chosen by name; the names come with the page (never the secrets).
  function credentialControl(f, parts, value) {
    const names = (f.options.credentials || []).slice();
    if (value && !names.includes(value)) names.push(value); // keep a deleted one visible: the server names it
    const select = choice(f, parts);
    select.append(el("option", { value: "", text: names.length ? "(none)" : "(none: add one under Credentials)" }),
      ...names.map((n) => el("option", { value: n, selected: n === value, text: n })));
    return select;
  }

  // An untyped value (a start input's default): read it as the type chosen next to it.
  function freeValueControl(f, parts, value) {
    const typeOf = () => getAt(f.working, parts.slice(0, -1).concat("type")) || "string";
    if (typeOf() === "boolean") {
      const select = choice(f, parts, (v) => v === "true");
      for (const [v, label] of [["", "(no default)"], ["true", "Yes"], ["false", "No"]]) {
        select.append(el("option", { value: v, selected: String(value) === v || (v === "" && value === undefined), text: label }));
      }
      return select;
    }
    const shown = value === undefined ? "" : typeof value === "string" ? value : JSON.stringify(value);
    return el("input", {
      type: "text", value: shown, disabled: f.readOnly, "data-field": pathString(parts), class: "mono",
      placeholder: "(no default)",
      oninput: (e) => { setAt(f.working, parts, readValue(e.target.value, typeOf())); f.emitInput(); },
      onchange: f.emitCommit,
    });
  }

  // Lists of plain values and free-form objects: edited as JSON.
  function jsonControl(f, prop, parts, value) {
    const area = el("textarea", {
      class: "mono", rows: 3, disabled: f.readOnly, "data-field": pathString(parts), spellcheck: "false",
      placeholder: prop.type === "object" ? "JSON, e.g. {\"name\": \"value\"}" : "JSON, e.g. [\"a\", \"b\"]",
      oninput: (e) => { setAt(f.working, parts, readValue(e.target.value, "json")); f.emitInput(); },
      onchange: f.emitCommit,
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
  function listField(f, prop, parts, required) {
    const items = Array.isArray(getAt(f.working, parts)) ? getAt(f.working, parts) : [];
    const noun = itemTitle(prop);
    const list = el("div", { class: "list" });
    items.forEach((item, index) => {
      const itemParts = parts.concat(index);
      const summary = item && (item.name || item.port || item.label);
      list.append(el("div", { class: "list-item", "data-path": pathString(itemParts) },
        el("div", { class: "list-item-head" },
          el("strong", { text: `${noun} ${index + 1}` }), summary ? el("span", { class: "muted", text: ` · ${summary}` }) : null,
          f.readOnly ? null : itemTools(f, prop, parts, items, index, noun)),
        objectFields(f, prop.items, itemParts)));
    });
    const add = f.readOnly ? null : el("button", {
      type: "button", class: "add", "data-action": "add-item", "data-list": pathString(parts),
      disabled: prop.maxItems && items.length >= prop.maxItems,
      onclick: () => addItem(f, prop, parts, items),
    }, `+ Add ${noun.toLowerCase()}`);
    return el("div", { class: "field list-field", "data-path": pathString(parts) },
      el("div", { class: "list-title" }, labelFor(prop, parts, required)), help(prop),
      items.length ? list : el("p", { class: "muted small", text: `No ${prop.title ? prop.title.toLowerCase() : "items"} yet.` }), add);
  }

  function itemTools(f, prop, parts, items, index, noun) {
    return el("span", { class: "item-tools" },
      el("button", { type: "button", class: "icon", title: "Move up", "aria-label": `Move ${noun} ${index + 1} up`, disabled: index === 0,
        onclick: () => move(f, parts, index, -1) }, "↑"),
      el("button", { type: "button", class: "icon", title: "Move down", "aria-label": `Move ${noun} ${index + 1} down`,
        disabled: index === items.length - 1, onclick: () => move(f, parts, index, 1) }, "↓"),
      el("button", { type: "button", class: "icon danger", title: `Remove this ${noun.toLowerCase()}`,
        "aria-label": `Remove ${noun} ${index + 1}`, "data-action": "remove-item",
        disabled: prop.minItems && items.length <= prop.minItems, onclick: () => removeItem(f, parts, index) }, "✕"));
  }

  function addItem(f, prop, parts, items) {
    const item = defaultFor(prop.items);
    // Names and ports must be unique and match a pattern: suggest one instead of leaving "".
    for (const key of ["name", "port"]) {
      if (item && item[key] === "") {
        const stem = itemTitle(prop).toLowerCase().replace(/[^a-z0-9_]/g, "_");
        let n = items.length + 1;
        while (items.some((other) => other && other[key] === `${stem}_${n}`)) n += 1;
        item[key] = `${stem}_${n}`;
      }
    }
    changeList(f, parts, items.concat([item]));
  }

  function removeItem(f, parts, index) {
    const items = getAt(f.working, parts).slice();
    items.splice(index, 1);
    changeList(f, parts, items);
  }

  function move(f, parts, index, delta) {
    const items = getAt(f.working, parts).slice();
    [items[index], items[index + delta]] = [items[index + delta], items[index]];
    changeList(f, parts, items);
  }

  function changeList(f, parts, items) {
    setAt(f.working, parts, items);
    f.emitInput(); f.emitCommit(); f.redraw();
  }

  // Key/value list (reply data): rows stay in the DOM; the object is rebuilt from them.
  function keyValueField(f, prop, parts, required) {
    const rows = el("div", { class: "kv-rows" });
    const valueSchema = prop.additionalProperties;
    const mono = isTemplate(valueSchema);
    const sync = () => {
      const object = {};
      rows.querySelectorAll(".kv-row").forEach((row) => {
        const key = row.querySelector(".kv-key").value;
        if (key !== "") object[key] = row.querySelector(".kv-value").value; // unnamed rows wait for a name
      });
      setAt(f.working, parts, Object.keys(object).length ? object : undefined);
      f.emitInput();
    };
    const addRow = (key, value) => {
      const valueInput = el("input", { class: `kv-value${mono ? " mono" : ""}`, type: "text", value, placeholder: valueSchema.title || "value",
        "aria-label": "Field value", disabled: f.readOnly, oninput: sync, onchange: f.emitCommit });
      const picker = valuePicker(f, valueSchema, valueInput, true);
      const row = el("div", { class: `kv-row${picker.bar ? " has-picker" : ""}` },
        el("input", { class: "kv-key", type: "text", value: key, placeholder: (prop.propertyNames && prop.propertyNames.title) || "name",
          "aria-label": "Field name", disabled: f.readOnly, oninput: sync, onchange: f.emitCommit }),
        picker.field,
        f.readOnly ? null : el("button", { type: "button", class: "icon danger", title: "Remove", "aria-label": "Remove field",
          onclick: () => { row.remove(); sync(); f.emitCommit(); } }, "✕"), picker.bar);
      rows.append(row);
      return row;
    };
    for (const [key, value] of Object.entries(getAt(f.working, parts) || {})) addRow(key, value);
    const add = f.readOnly ? null : el("button", {
      type: "button", class: "add", "data-action": "add-row",
      onclick: () => addRow("", "").querySelector(".kv-key").focus(),
    }, "+ Add field");
    return el("div", { class: "field kv-field", "data-path": pathString(parts) },
      el("div", { class: "list-title" }, labelFor(prop, parts, required)), help(prop), rows, add);
  }

  SB.formFields = { objectFields };
})();
