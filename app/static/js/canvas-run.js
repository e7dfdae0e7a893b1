// "Run now": a form built from the published start node's inputs, then the run shown live
// on the canvas (each node colored by its step's status, with its duration and output).
// The input form and the live run are shared with "Test" (canvas-test.js), which runs the
// unsaved canvas; a finished run of either leaves S.lastRun for the value picker.
(function () {
  "use strict";
  const SB = (window.Switchboard = window.Switchboard || {});
  const { el } = SB.forms;
  const S = () => SB.canvas;

  const POLL_MS = 400;
  let steps = {}; // node_id -> latest step of the shown run
  let runId = null;
  let testRun = false; // the shown run tests the unsaved canvas (a draft), not the published flow
  let triggerId = null; // manual trigger the dialog runs from, or null for the start node
  let pollTimer = null;

  function init() {
    const button = document.getElementById("btn-run");
    button.hidden = S().readOnly || !S().data.can_run;
    button.addEventListener("click", () => open(null));
    document.getElementById("run-cancel").addEventListener("click", () => document.getElementById("run-dialog").close());
    document.getElementById("run-form").addEventListener("submit", (e) => { e.preventDefault(); submit(); });
  }

  function declaredInputs(documentToRun) {
    const doc = documentToRun || S().savedDocument;
    const start = doc && (doc.nodes || []).find((n) => n.type === "start");
    return (start && start.config && start.config.inputs) || [];
  }

  function open(fromTrigger) {
    if (!S().latestVersion) {
      S().toast("Save the flow first: Run now runs the published version.", "error");
      return;
    }
    triggerId = fromTrigger;
    const dialog = document.getElementById("run-dialog");
    const trigger = fromTrigger && S().graph.getCellById(fromTrigger);
    document.getElementById("run-dialog-title").textContent = trigger
      ? `Run from "${trigger.getData().name || (trigger.getData().config || {}).label || "Run now"}"` : "Run now";
    document.getElementById("run-note").textContent = S().dirty
      ? `You have unsaved changes: this runs the last saved version (v${S().latestVersion}), not what is on the canvas.`
      : `Runs version ${S().latestVersion}, the published one.`;
    document.getElementById("run-note").classList.toggle("warn", S().dirty);
    const inputs = declaredInputs();
    const fields = document.getElementById("run-fields");
    fields.replaceChildren(...(inputs.length ? inputs.map((input) => inputField(input))
      : [el("p", { class: "muted", text: "This flow declares no inputs; it runs as is." })]));
    document.getElementById("run-error").hidden = true;
    dialog.showModal();
    const first = fields.querySelector("input, textarea, select");
    if (first) first.focus();
  }

  // One labelled control per declared input; `value` (a pinned earlier input) prefills it.
  // "string" -> "Text": the words the start node's type drop-down shows (its schema's x-enum-titles).
  function typeWord(type) {
    const start = S().palette && S().palette.start;
    const titles = start && start.config_schema.properties.inputs.items.properties.type["x-enum-titles"];
    return (titles && titles[type]) || type;
  }

  function inputField(input, value) {
    const name = `input-${input.name}`;
    const hasDefault = input.default !== undefined && input.default !== null;
    const placeholder = hasDefault ? `default: ${typeof input.default === "string" ? input.default : JSON.stringify(input.default)}` : "";
    let control;
    if (input.type === "boolean") {
      control = el("select", { name, "data-input": input.name },
        el("option", { value: "", text: hasDefault ? `(default: ${input.default})` : "(not set)" }),
        el("option", { value: "true", text: "true" }), el("option", { value: "false", text: "false" }));
    } else if (input.type === "object" || input.type === "array") {
      control = el("textarea", { name, "data-input": input.name, class: "mono", rows: 3,
        placeholder: placeholder || (input.type === "object" ? '{"key": "value"}' : '["a", "b"]') });
    } else {
      control = el("input", { name, "data-input": input.name, type: input.type === "string" ? "text" : "number",
        step: input.type === "integer" ? 1 : "any", placeholder });
    }
    if (value !== undefined && value !== null) control.value = typeof value === "string" ? value : JSON.stringify(value);
    return el("div", { class: "field" },
      el("label", {}, el("span", { class: "label" }, input.name, input.required ? el("span", { class: "req", text: " *" }) : null,
        el("span", { class: "muted small", text: ` ${typeWord(input.type)}` })), control),
      input.description ? el("small", { class: "help", text: input.description }) : null,
      el("p", { class: "field-error", "data-error-for": input.name, hidden: true }));
  }

  // Empty fields are left out so the start node's defaults apply.
  function collect(inputs, boxId) {
    const values = {};
    let ok = true;
    for (const input of inputs) {
      const control = document.querySelector(`#${boxId} [data-input="${CSS.escape(input.name)}"]`);
      const raw = control ? control.value : "";
      if (raw.trim() === "") continue;
      if (input.type === "string") values[input.name] = raw;
      else if (input.type === "boolean") values[input.name] = raw === "true";
      else if (input.type === "number" || input.type === "integer") values[input.name] = Number(raw);
      else {
        try { values[input.name] = JSON.parse(raw); } catch (err) { fieldError(boxId, input.name, "This is not valid JSON."); ok = false; }
      }
    }
    return ok ? values : null;
  }

  function fieldError(boxId, name, message) {
    const box = document.querySelector(`#${boxId} [data-error-for="${CSS.escape(name)}"]`);
    if (box) { box.textContent = message; box.hidden = false; return true; }
    return false;
  }

  async function submit() {
    document.querySelectorAll("#run-dialog .field-error").forEach((e) => { e.hidden = true; });
    const inputs = collect(declaredInputs(), "run-fields");
    if (!inputs) return;
    const urls = S().data.urls;
    const url = triggerId ? urls.run_trigger.replace("__NODE__", encodeURIComponent(triggerId)) : urls.run;
    const submitButton = document.getElementById("run-submit");
    submitButton.disabled = true;
    const result = await S().api("POST", url, inputs);
    submitButton.disabled = false;
    if (result.status === 202 || result.status === 200) {
      document.getElementById("run-dialog").close();
      start(result.body.run_id);
      return;
    }
    showErrors(result, "run-fields", "run-error");
  }

  // A refusal's details next to their fields; the rest (and the message) in the dialog's error line.
  function showErrors(result, boxId, errorId) {
    const error = (result.body && result.body.error) || {};
    const details = Array.isArray(error.details) ? error.details : [];
    const unplaced = details.filter((d) => !(d.field && fieldError(boxId, d.field, d.reason)));
    const box = document.getElementById(errorId);
    box.textContent = [error.message || S().errorMessage(result)]
      .concat(unplaced.map((d) => (d.field ? `${d.field}: ${d.reason}` : d.reason))).join(" ");
    box.hidden = false;
  }

  function start(id, options) {
    clearTimeout(pollTimer);
    runId = id;
    testRun = !!(options && options.test);
    steps = {};
    S().refreshAll();
    showBar({ status: "queued" });
    poll();
  }

  async function poll() {
    const id = runId;
    const result = await S().api("GET", S().data.urls.run_status.replace("__RUN__", encodeURIComponent(id)));
    if (id !== runId) return; // a newer run replaced this one
    if (result.status !== 200 || !result.body) {
      pollTimer = setTimeout(poll, POLL_MS * 5); // transient trouble: try again, more slowly
      return;
    }
    const run = result.body;
    const final = !["queued", "running", "waiting"].includes(run.status); // waiting: parked by a delay node
    steps = stepsOf(run, final);
    if (final) S().lastRun = lastRun(run);
    S().refreshAll();
    updatePanelStep();
    showBar(run);
    if (!final) pollTimer = setTimeout(poll, run.status === "waiting" ? POLL_MS * 5 : POLL_MS);
  }

  // node_id -> the step to show. While a delay node parks the run, its (finished) step shows as
  // waiting until the resume time, not as a green check.
  function stepsOf(run, final) {
    const shown = {};
    const list = run.steps || [];
    for (const step of list) shown[step.node_id] = step; // retried steps: the last attempt wins
    const last = list[list.length - 1];
    if (run.status === "waiting" && last && last.output && last.output.resume_at) {
      shown[last.node_id] = { ...last, status: "waiting", resume_at: run.resume_at || last.output.resume_at };
    }
    if (final) {
      for (const node of S().graph.getNodes()) {
        // One trigger at most starts a run (none when Run now or a test enters at the start node):
        // the others were not "not reached", they were not part of it, so they stay as drawn.
        if (S().entry(node.getData().type).category === "trigger") continue;
        if (!shown[node.id]) shown[node.id] = { node_id: node.id, status: "skipped" };
      }
    }
    return shown;
  }

  // What the value picker shows as "last value" (contract: inputs, outputs and statuses by node id).
  function lastRun(run) {
    const outputs = {};
    const statuses = {};
    for (const step of run.steps || []) {
      outputs[step.node_id] = step.output;
      statuses[step.node_id] = step.status;
    }
    return { inputs: run.inputs || {}, outputs, statuses };
  }

  // Times in UTC, as every page shows them: "2026-11-30 15:40:05 UTC".
  function utc(iso) {
    const date = new Date(iso);
    return Number.isNaN(date.getTime()) ? String(iso) : `${date.toISOString().slice(0, 19).replace("T", " ")} UTC`;
  }

  function duration(ms) {
    if (ms === null || ms === undefined) return "";
    if (ms < 1) return "<1 ms"; // short: it shares a node's top line with the title
    return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
  }

  // A run or step status in the page's words ("Timed out", not "timed_out").
  const statusWord = (status) => (S().data.status_words || {})[status] || status;

  function statusText(step) {
    switch (step.status) {
      case "succeeded": return `✓ ${duration(step.duration_ms)}`;
      case "failed": return `✕ failed ${duration(step.duration_ms)}`;
      case "running": return "… running";
      case "waiting": return `⏸ until ${utc(step.resume_at).slice(11, 16)} UTC`;
      case "skipped": return "not reached";
      default: return statusWord(step.status);
    }
  }

  function showBar(run) {
    const bar = document.getElementById("run-bar");
    bar.hidden = false;
    bar.dataset.runStatus = run.status;
    bar.toggleAttribute("data-test-run", testRun);
    const busy = ["queued", "running", "waiting"].includes(run.status);
    const words = statusWord(run.status);
    const parts = [el("strong", { text: `Run: ${words}${busy ? "…" : ""}` })];
    if (run.status === "waiting" && run.resume_at) parts.push(el("span", { text: ` until ${utc(run.resume_at)}`, "data-resume-at": run.resume_at }));
    if (run.duration_ms !== undefined && run.duration_ms !== null) parts.push(` in ${duration(run.duration_ms)}`);
    if (run.output && run.output.text !== undefined) parts.push(" · Answer: ", el("q", { class: "run-answer", text: String(run.output.text).slice(0, 200) }));
    if (run.error) parts.push(" · ", el("span", { class: "field-error", text: run.error }));
    parts.push(el("span", { class: "muted small", text: " Click a node to see its output, or " },
      el("a", { href: S().data.urls.run_page.replace("__RUN__", encodeURIComponent(run.id)), text: "open the run's page" }), "."));
    parts.push(el("button", { type: "button", class: "icon", title: "Hide the run", "aria-label": "Hide the run", onclick: clear }, "✕"));
    bar.replaceChildren(...parts);
  }

  function clear() {
    clearTimeout(pollTimer);
    runId = null;
    steps = {};
    document.getElementById("run-bar").hidden = true;
    S().refreshAll();
    updatePanelStep();
  }

  const stepFor = (nodeId) => steps[nodeId] || null;

  function pretty(value) {
    const text = JSON.stringify(value, null, 2);
    return text && text.length > 5000 ? `${text.slice(0, 5000)}\n…` : text;
  }

  // The shown run's step of this node, for the side panel (null when there is none).
  function stepDetails(nodeId) {
    const step = stepFor(nodeId);
    if (!step) return null;
    const box = el("section", { class: `run-step status-${step.status}`, "data-node-id": nodeId, "data-status": step.status },
      el("h3", {}, testRun ? "Last test: " : "Last run: ", el("span", { class: `badge status-${step.status}`, text: step.status === "skipped" ? "not reached" : statusWord(step.status) }),
        step.duration_ms !== undefined && step.duration_ms !== null ? el("span", { class: "muted small", text: ` ${duration(step.duration_ms)}` }) : null,
        step.port ? el("span", { class: "muted small", text: ` · left by port ${step.port}` }) : null,
        step.resume_at ? el("span", { class: "small", text: ` until ${utc(step.resume_at)}` }) : null));
    if (step.error) box.append(el("pre", { class: "step-error", text: step.error }));
    if (step.output !== undefined && step.output !== null) box.append(el("div", { class: "small muted", text: "Output" }), el("pre", { class: "step-output", text: pretty(step.output) }));
    return box;
  }

  function updatePanelStep() {
    const side = document.getElementById("side-panel");
    const showing = side.dataset.showing || "";
    if (!showing.startsWith("node:")) return;
    const nodeId = showing.slice(5);
    const old = side.querySelector(".run-step");
    const fresh = stepDetails(nodeId);
    if (old && fresh) old.replaceWith(fresh);
    else if (old) old.remove();
    else if (fresh && side.querySelector(".side-desc")) side.querySelector(".side-desc").after(fresh);
  }

  SB.run = { init, open, stepFor, statusText, stepDetails, clear, follow: start, declaredInputs, inputField, collect,
    showErrors };
})();
