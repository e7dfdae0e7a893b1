// What a node does, in a line for its subtitle on the canvas ("Replies: Hi {order_number}…",
// "Calls POST https://…", "Waits 5 minutes"). A reader scanning the canvas learns the flow
// from these lines without opening every node; the node id says nothing to them.
(function () {
  "use strict";
  const SB = (window.Switchboard = window.Switchboard || {});
  const S = (SB.canvas = SB.canvas || {});

  // "{{ nodes.lookup.order_number | lower }}" -> "{order_number}": the field, not the plumbing.
  function plain(text) {
    return String(text || "").replace(/\{\{\s*([^}|]*?)\s*(\|[^}]*)?\}\}/g, (all, expr) => {
      const parts = expr.split(".").filter(Boolean);
      return `{${parts.length ? parts[parts.length - 1] : "…"}}`;
    }).replace(/\{%[^%]*%\}/g, "").replace(/\s+/g, " ").trim();
  }

  const OPERATORS = {
    equals: "=", not_equals: "≠", contains: "contains", not_contains: "does not contain",
    starts_with: "starts with", ends_with: "ends with", greater_than: ">", greater_or_equal: "≥",
    less_than: "<", less_or_equal: "≤", is_empty: "is empty", is_not_empty: "is not empty",
    is_true: "is yes", is_false: "is no",
  };

  function condition(c) {
    if (!c) return "";
    const op = OPERATORS[c.operator] || c.operator || "";
    const unary = /^is_/.test(c.operator || "");
    return `${plain(c.value) || "…"} ${op}${unary ? "" : ` ${plain(c.compare_to) || "…"}`}`;
  }

  function ifBranches(config) {
    const branch = (config.branches || [])[0];
    if (!branch) return "If: no branch yet";
    const conditions = branch.conditions || [];
    const joined = conditions.map(condition).filter(Boolean).join(branch.match === "any" ? " or " : " and ");
    return `If: ${joined || "no condition yet"}`;
  }

  function firstMessage(config) {
    const user = (config.messages || []).filter((m) => m && m.role === "user").pop();
    return plain(user ? user.content : config.system_prompt);
  }

  const say = (prefix, text, empty) => (text ? `${prefix}: ${text}` : empty);

  // One entry per processing node type; unknown types fall back to the palette description.
  const SUMMARIES = {
    reply: (c) => say("Replies", plain(c.text), "Replies: (no text yet)"),
    end: () => "Ends this branch",
    template: (c) => say("Writes", plain(c.template), "Writes text (empty)"),
    http_request: (c) => `Calls ${c.method || "GET"} ${c.url && c.url !== "https://" ? plain(c.url) : "(no URL yet)"}`,
    llm: (c) => say("Asks the model", firstMessage(c), `Asks ${c.model || "the model"}`),
    condition: ifBranches,
    switch: (c) => `Picks by ${plain(c.value) || "…"} (${(c.cases || []).length} cases)`,
    delay: (c) => {
      const amount = c.amount === undefined ? 10 : c.amount;
      const unit = (c.unit || "seconds").replace(/s$/, amount === 1 ? "" : "s");
      return `Waits ${amount} ${unit}`;
    },
    set_variables: (c) => say("Sets", (c.variables || []).map((v) => v && v.name).filter(Boolean).join(", "), "Sets variables"),
    start: (c) => say("Inputs", (c.inputs || []).map((i) => i && i.name).filter(Boolean).join(", "), "No inputs yet"),
  };

  // Triggers say how the flow starts; their URL or schedule is on the node's next line.
  function triggerSummary(type) {
    const kind = S.triggerKind(type);
    if (kind.scheduled) return "Starts the flow on a schedule";
    if (kind.runs_here) return "Starts the flow from the app";
    return "Starts the flow when called";
  }

  S.summary = function (data) {
    const entry = S.entry(data.type);
    const config = { ...(entry.default_config || {}), ...(data.config || {}) };
    if (entry.is_trigger) return triggerSummary(data.type);
    const make = SUMMARIES[data.type];
    try {
      if (make) return make(config);
    } catch (err) { /* a half-edited config: fall back to the type's description */ }
    return entry.description || entry.title;
  };
})();
