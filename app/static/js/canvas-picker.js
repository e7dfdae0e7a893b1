// The value picker: every template field gets an "Insert value" button and the chips of the
// values it uses, so nobody has to type {{ nodes.template_1.text }} by hand. The button (or
// typing "{{" in the field) opens a list of what is available at the node (canvas-values.js
// fetches it); choosing one inserts {{ expression }} at the cursor and fires the field's own
// input and change events, so the form keeps the node's config in sync as if it were typed.
(function () {
  "use strict";
  const SB = (window.Switchboard = window.Switchboard || {});
  const { el } = SB.forms;
  const V = () => SB.values;

  const MARGIN = 8;
  const LAST_VALUE_CHARS = 40;
  const OPENING = "\u007b\u007b"; // the two braces that open a reference (escaped so braces stay paired here)
  const CLOSING_NEXT = /^\s*\u007d\u007d/; // its closing braces right after the cursor
  let open = null; // the popup on screen: {control, popup, list, filter, options, active, typing, ...}
  let counter = 0;
  const dismissed = new WeakMap(); // field -> start of the typed reference whose list was closed with Escape

  // ---- attaching to a field ------------------------------------------------------------

  function nodeIdOf(f) {
    if (f.options.nodeId) return f.options.nodeId;
    const side = document.getElementById("side-panel");
    const showing = (side && side.dataset.showing) || "";
    return showing.startsWith("node:") ? showing.slice(5) : null;
  }

  /**
   * Give a template field (`control`, a textarea or input of form `f`) its picker button, its
   * chips and its read view; returns {field, bar}: the control inside its read view, to place
   * where the control would go, and the bar to place under it. `compact` draws a small button
   * (key/value rows).
   */
  function attach(f, control, compact) {
    const nodeId = nodeIdOf(f);
    const chips = el("span", { class: "value-chips", "aria-label": "Values this field uses", hidden: true });
    const redraw = () => V().drawChips(chips, control.value, nodeId);
    let timer = null;
    control.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(redraw, 250); });
    redraw();
    const field = readView(control, nodeId);
    if (f.readOnly) return { field, bar: el("div", { class: "value-bar" }, chips) };
    const button = el("button", {
      type: "button", class: `value-insert${compact ? " icon" : ""}`, "aria-haspopup": "listbox", "aria-expanded": "false",
      "aria-label": "Insert value", title: "Insert a value: an input, the trigger, the conversation or an earlier step's result",
      onclick: () => (open && open.control === control ? close() : show(control, button, nodeId, null)),
    }, compact ? "{ }" : "{ } Insert value");
    control.addEventListener("input", (e) => { if (!e.sbPicked) typed(control, button, nodeId); });
    control.addEventListener("keydown", (e) => open && open.control === control && open.typing && typingKey(e));
    control.addEventListener("click", () => open && open.control === control && open.typing && typed(control, button, nodeId));
    control.addEventListener("blur", () => setTimeout(() => {
      if (open && open.control === control && open.typing && !open.popup.contains(document.activeElement)) close();
    }, 0));
    return { field, bar: el("div", { class: `value-bar${compact ? " compact" : ""}` }, button, chips) };
  }

  // ---- the read view -------------------------------------------------------------------
  // A field that is not being edited reads as words: its references drawn over it as the
  // same chips as under it ("Hello [Start › person]"), so nobody has to read {{ inputs.person }}.
  // The control stays where it was, focusable and fillable; only its text is made transparent,
  // so its border, size, scrollbar and problem colour stay its own. The view ignores the pointer
  // (a click lands in the control, which then shows the raw text to edit) and is hidden from
  // screen readers, which read and edit the control itself.

  const HAS_TEMPLATE = /\u007b\u007b|\u007b%/; // {{ or {% (escaped so braces stay paired here)

  function readView(control, nodeId) {
    const view = el("span", { class: "template-read", "aria-hidden": "true" }); // a span: it lives inside the field's <label>
    const box = el("span", { class: `template-box${control.tagName === "TEXTAREA" ? " is-multiline" : ""}` }, control, view);
    const editing = () => document.activeElement === control;
    const update = () => {
      const reading = !editing() && HAS_TEMPLATE.test(control.value);
      box.classList.toggle("is-reading", reading);
      if (!reading) return;
      V().drawReading(view, control.value, nodeId);
      follow();
    };
    // Keep the view at the place the control is scrolled to (in proportion: chips are shorter than references).
    const follow = () => {
      const range = control.scrollHeight - control.clientHeight;
      view.scrollTop = range > 0 ? (control.scrollTop / range) * (view.scrollHeight - view.clientHeight) : 0;
    };
    control.addEventListener("focus", () => box.classList.remove("is-reading"));
    control.addEventListener("blur", update);
    control.addEventListener("input", () => { if (!editing()) update(); }); // changed from outside (undo, a test)
    control.addEventListener("scroll", follow);
    update();
    return box;
  }

  // "{{ part" right before the cursor: the start of a reference being typed, or null.
  function typedReference(control) {
    const before = control.value.slice(0, control.selectionStart);
    const start = before.lastIndexOf(OPENING);
    if (start < 0) return null;
    const after = before.slice(start + 2);
    if (!/^\s*[\w.[\]'"]*$/.test(after)) return null;
    return { start, query: after.trim() };
  }

  function typed(control, button, nodeId) {
    const found = typedReference(control);
    if (found && dismissed.get(control) === found.start) return; // Escape said no to this one
    dismissed.delete(control);
    if (!found) { if (open && open.control === control && open.typing) close(); return; }
    if (open && open.control === control && open.typing) {
      open.typing = found;
      filter(found.query);
    } else {
      show(control, button, nodeId, found);
    }
  }

  // ---- the popup -----------------------------------------------------------------------

  function show(control, button, nodeId, typing) {
    close();
    const id = `value-list-${++counter}`;
    const list = el("div", { class: "value-list", role: "listbox", id, "aria-label": "Available values", tabindex: "-1" });
    const status = el("p", { class: "value-status", role: "status", text: "Loading the values…" });
    const filterBox = el("input", {
      type: "search", class: "value-filter", placeholder: "Filter, e.g. order", "aria-label": "Filter the values",
      role: "combobox", "aria-controls": id, "aria-expanded": "true", "aria-autocomplete": "list", autocomplete: "off",
      oninput: (e) => filter(e.target.value), onkeydown: (e) => filterKey(e),
    });
    const popup = el("div", { class: "value-picker", role: "dialog", "aria-label": "Insert value" },
      typing ? null : filterBox, status, list);
    document.body.append(popup);
    open = { control, button, popup, list, status, filter: typing ? null : filterBox, options: [], active: -1, typing,
      selection: [control.selectionStart, control.selectionEnd], values: null };
    button.setAttribute("aria-expanded", "true");
    place();
    follow(open);
    if (!typing) filterBox.focus();
    populate(open, nodeId);
  }

  async function populate(state, nodeId) {
    const result = nodeId ? await V().load(nodeId) : { error: V().LOAD_ERROR };
    if (open !== state) return; // closed or replaced meanwhile
    if (result.error) {
      state.status.textContent = result.error;
      state.status.classList.add("field-error");
      state.popup.dataset.state = "error";
      return;
    }
    state.values = result.values;
    state.popup.dataset.state = "ready";
    filter(state.typing ? state.typing.query : state.filter.value);
  }

  function optionFor(value, index) {
    const last = V().lastValue(value);
    return el("div", {
      class: "value-option", role: "option", id: `${open.list.id}-${index}`, "aria-selected": "false",
      "data-expression": value.expression, title: value.description || `{{ ${value.expression} }}`,
      onmousedown: (e) => e.preventDefault(), // keep the focus (and the cursor) where it is
      onclick: () => choose(value),
    },
    el("span", { class: "value-label", text: value.label || value.expression }),
    el("span", { class: "value-type", text: value.type || "Any" }),
    // A value labelled by a title (the trigger's "Caller's reference") says in a line what it is.
    value.hint ? el("span", { class: "value-hint", text: value.hint }) : null,
    last.found ? el("span", { class: "value-last", title: "Its value in the last run", text: V().shortText(last.value, LAST_VALUE_CHARS) }) : null);
  }

  function matches(value, words) {
    const text = `${value.label} ${value.expression} ${value.group || ""} ${value.type || ""}`.toLowerCase();
    return words.every((word) => text.includes(word));
  }

  function filter(query) {
    if (!open || !open.values) return;
    const words = String(query || "").toLowerCase().split(/\s+/).filter(Boolean);
    const shown = open.values.filter((v) => matches(v, words));
    const groups = new Map();
    shown.forEach((v) => { const g = v.group || "Values"; if (!groups.has(g)) groups.set(g, []); groups.get(g).push(v); });
    open.options = [];
    const children = [];
    for (const [name, values] of groups) {
      const head = `${open.list.id}-g${children.length}`;
      children.push(el("div", { class: "value-group", role: "group", "aria-labelledby": head },
        el("div", { class: "value-group-head", id: head, role: "presentation", text: name }),
        values.map((v) => { open.options.push(v); return optionFor(v, open.options.length - 1); })));
    }
    open.list.replaceChildren(...children);
    open.status.textContent = open.values.length === 0
      ? "Nothing to insert yet: connect this node after the Start node, or add inputs to the Start node."
      : shown.length ? "" : `No value matches “${query}”.`;
    open.status.hidden = !open.status.textContent;
    activate(shown.length ? 0 : -1);
    place();
  }

  function activate(index) {
    if (!open) return;
    const nodes = open.list.querySelectorAll("[role=option]");
    nodes.forEach((node, i) => node.setAttribute("aria-selected", String(i === index)));
    open.active = index;
    const target = open.filter || open.control;
    if (index >= 0) {
      target.setAttribute("aria-activedescendant", nodes[index].id);
      nodes[index].scrollIntoView({ block: "nearest" });
    } else {
      target.removeAttribute("aria-activedescendant");
    }
  }

  // Keys shared by the filter box and a field being typed in; true when handled.
  function listKey(e) {
    const count = open.options.length;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      if (count) activate((open.active + (e.key === "ArrowDown" ? 1 : count - 1)) % count);
    } else if (e.key === "Enter") {
      if (open.active >= 0) choose(open.options[open.active]);
    } else if (e.key === "Escape") {
      const control = open.control;
      if (open.typing) dismissed.set(control, open.typing.start);
      close();
      if (document.activeElement !== control) control.focus();
    } else {
      return false;
    }
    e.preventDefault();
    e.stopPropagation();
    return true;
  }

  function filterKey(e) {
    if (listKey(e)) return;
    if (e.key === "Tab") close();
  }

  // While typing, keys belong to the field unless the list has something to choose.
  function typingKey(e) {
    if (e.key === "Tab") { close(); return; }
    if (e.key === "Escape" || (open.options.length && ["ArrowDown", "ArrowUp", "Enter"].includes(e.key))) listKey(e);
  }

  // Fixed to the window, under the field (or above it when there is more room there), and
  // never past an edge: the side panel is narrow and scrolls, the window may be 1024x768.
  function place() {
    if (!open) return;
    const { popup, control } = open;
    if (!control.isConnected) { close(); return; }
    const rect = control.getBoundingClientRect();
    const vw = document.documentElement.clientWidth;
    const vh = document.documentElement.clientHeight;
    const width = Math.min(380, vw - 2 * MARGIN);
    popup.style.width = `${width}px`;
    popup.style.left = `${Math.max(MARGIN, Math.min(rect.left, vw - width - MARGIN))}px`;
    const below = vh - rect.bottom - 4 - MARGIN;
    const above = rect.top - 4 - MARGIN;
    const room = Math.max(below, above);
    popup.style.maxHeight = "none"; // measure the list at its natural height
    const height = Math.min(popup.offsetHeight, 340, Math.max(room, 120));
    popup.style.maxHeight = `${height}px`;
    let top = below >= height || below >= above ? rect.bottom + 4 : rect.top - 4 - height;
    top = Math.max(MARGIN, Math.min(top, vh - height - MARGIN));
    popup.style.top = `${top}px`;
  }

  // The form may move under the popup (a problem shown above the field, the panel redrawn):
  // follow the field while the popup is open, and close it when the field is gone.
  function follow(state) {
    let last = "";
    const step = () => {
      if (open !== state) return;
      if (!state.control.isConnected) { close(); return; }
      const r = state.control.getBoundingClientRect();
      const now = `${r.left},${r.top},${r.bottom}`;
      if (now !== last) { last = now; place(); }
      requestAnimationFrame(step);
    };
    requestAnimationFrame(step);
  }

  function close() {
    if (!open) return;
    const { popup, button, control } = open;
    open = null;
    popup.remove();
    button.setAttribute("aria-expanded", "false");
    control.removeAttribute("aria-activedescendant");
  }

  // ---- inserting -----------------------------------------------------------------------

  function choose(value) {
    if (!open || !value) return;
    const { control, typing, selection } = open;
    const text = `{{ ${value.expression} }}`;
    let start;
    let end;
    if (typing) {
      start = typing.start;
      end = control.selectionStart;
      const rest = control.value.slice(end).match(CLOSING_NEXT); // typed with its closing braces already
      if (rest) end += rest[0].length;
    } else {
      [start, end] = selection[0] === null || selection[0] === undefined ? [control.value.length, control.value.length] : selection;
    }
    close();
    control.focus();
    control.setRangeText(text, start, end, "end");
    const input = new Event("input", { bubbles: true });
    input.sbPicked = true;
    control.dispatchEvent(input);
    control.dispatchEvent(new Event("change", { bubbles: true })); // one undoable step
  }

  document.addEventListener("mousedown", (e) => {
    if (open && !open.popup.contains(e.target) && e.target !== open.button && e.target !== open.control) close();
  }, true);
  window.addEventListener("resize", () => place());

  SB.picker = { attach, close, isOpen: () => !!open };
})();
