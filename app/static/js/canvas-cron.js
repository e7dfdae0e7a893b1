// The cron picker of the schedule node's form ("x-widget": "cron"): every N minutes, hourly,
// daily at, weekly on, monthly on. It only writes and reads the five-field text; what the
// expression means (the next fire times, DST) is always computed by the server.
(function () {
  "use strict";
  const SB = (window.Switchboard = window.Switchboard || {});

  const KINDS = [
    ["custom", "Custom expression"], ["minutes", "Every N minutes"], ["hourly", "Hourly"],
    ["daily", "Daily"], ["weekly", "Weekly"], ["monthly", "Monthly"],
  ];
  const DAYS = [["1", "Monday"], ["2", "Tuesday"], ["3", "Wednesday"], ["4", "Thursday"], ["5", "Friday"],
    ["6", "Saturday"], ["0", "Sunday"]];
  const SHAPES = [ // [kind, pattern, fields]
    ["minutes", /^\*\/(\d{1,2}) \* \* \* \*$/, ["n"]],
    ["hourly", /^(\d{1,2}) \* \* \* \*$/, ["minute"]],
    ["daily", /^(\d{1,2}) (\d{1,2}) \* \* \*$/, ["minute", "hour"]],
    ["weekly", /^(\d{1,2}) (\d{1,2}) \* \* ([0-7])$/, ["minute", "hour", "dow"]],
    ["monthly", /^(\d{1,2}) (\d{1,2}) (\d{1,2}) \* \*$/, ["minute", "hour", "dom"]],
  ];

  /** Read an expression into the picker's fields; {kind: "custom"} when it has another shape. */
  function parse(expression) {
    const text = String(expression || "").trim().split(/\s+/).join(" ");
    for (const [kind, pattern, names] of SHAPES) {
      const match = pattern.exec(text);
      if (match) {
        const parsed = { kind };
        names.forEach((name, i) => { parsed[name] = Number(match[i + 1]); });
        if (parsed.dow === 7) parsed.dow = 0;
        return parsed;
      }
    }
    return { kind: "custom" };
  }

  /** Write the picker's fields as a five-field expression (null for "custom"). */
  function build(v) {
    const num = (value, low, high, fallback) => {
      const n = Math.trunc(Number(value));
      return Number.isFinite(n) && n >= low && n <= high ? n : fallback;
    };
    const minute = num(v.minute, 0, 59, 0);
    const hour = num(v.hour, 0, 23, 9);
    switch (v.kind) {
      case "minutes": return `*/${num(v.n, 1, 59, 15)} * * * *`;
      case "hourly": return `${minute} * * * *`;
      case "daily": return `${minute} ${hour} * * *`;
      case "weekly": return `${minute} ${hour} * * ${num(v.dow, 0, 6, 1)}`;
      case "monthly": return `${minute} ${hour} ${num(v.dom, 1, 31, 1)} * *`;
      default: return null;
    }
  }

  const pad = (n) => String(n).padStart(2, "0");

  /**
   * Build the picker for `input` (the expression's text field). `onPick(expression)` is called
   * when the picker changes the expression; call the returned sync() after the text changed.
   */
  function picker(input, options) {
    const { el } = SB.forms;
    const disabled = !!options.readOnly;
    const kind = el("select", { "data-cron-kind": "", disabled, "aria-label": "Repeat" },
      ...KINDS.map(([value, text]) => el("option", { value, text })));
    const n = el("input", { type: "number", min: 1, max: 59, "data-cron-n": "", disabled, "aria-label": "Minutes" });
    const minute = el("input", { type: "number", min: 0, max: 59, "data-cron-minute": "", disabled, "aria-label": "Minute" });
    const time = el("input", { type: "time", "data-cron-time": "", disabled, "aria-label": "Time" });
    const dow = el("select", { "data-cron-dow": "", disabled, "aria-label": "Day of the week" },
      ...DAYS.map(([value, text]) => el("option", { value, text })));
    const dom = el("input", { type: "number", min: 1, max: 31, "data-cron-dom": "", disabled, "aria-label": "Day of the month" });
    const parts = {
      minutes: el("span", { class: "cron-part" }, "every ", n, " minutes"),
      hourly: el("span", { class: "cron-part" }, "at minute ", minute),
      dow: el("span", { class: "cron-part" }, "on ", dow),
      dom: el("span", { class: "cron-part" }, "on day ", dom),
      time: el("span", { class: "cron-part" }, "at ", time),
    };
    const shown = { minutes: ["minutes"], hourly: ["hourly"], daily: ["time"], weekly: ["dow", "time"],
      monthly: ["dom", "time"], custom: [] };
    const box = el("span", { class: "cron-picker", "data-cron-picker": "" }, kind, ...Object.values(parts));

    function show(which) {
      Object.entries(parts).forEach(([name, part]) => { part.hidden = !shown[which].includes(name); });
    }

    function sync() {
      const parsed = parse(input.value);
      kind.value = parsed.kind;
      if (parsed.n !== undefined) n.value = parsed.n;
      if (parsed.minute !== undefined) minute.value = parsed.minute;
      if (parsed.hour !== undefined) time.value = `${pad(parsed.hour)}:${pad(parsed.minute)}`;
      if (parsed.dow !== undefined) dow.value = String(parsed.dow);
      if (parsed.dom !== undefined) dom.value = parsed.dom;
      show(parsed.kind);
    }

    function picked() {
      show(kind.value);
      const [hour, min] = (time.value || "09:00").split(":");
      const expression = build({
        kind: kind.value, n: n.value || 15, dow: dow.value, dom: dom.value || 1,
        minute: kind.value === "hourly" ? minute.value || 0 : min, hour,
      });
      if (expression === null) { input.focus(); return; }
      input.value = expression;
      options.onPick(expression);
    }

    [kind, dow].forEach((control) => control.addEventListener("change", picked));
    [n, minute, time, dom].forEach((control) => control.addEventListener("change", picked));
    sync();
    return { element: box, sync };
  }

  SB.cron = { parse, build, picker };
})();
