// Saving (= publishing a new version), the problems the server finds, new trigger secrets
// and the "someone else published first" conflict. The server's validate() is the only
// judge of a flow: the canvas shows its problems as they are reported, live and on save.
(function () {
  "use strict";
  const SB = (window.Switchboard = window.Switchboard || {});
  const { el } = SB.forms;
  const S = () => SB.canvas;

  let validateTimer = null;
  let validateSeq = 0;
  let firstPending = 0; // when the oldest change not yet validated happened
  let saving = false;
  let userExpanded = null; // problems list opened/closed by the user (null: not yet)
  let showAll = false; // the whole list, not only its first FIRST_PROBLEMS, chosen by the user
  // A strip that lists every problem covered most of the canvas at 1024x768: it lists the first
  // few, says how many more there are, and scrolls its list when the person asks for all of them.
  const FIRST_PROBLEMS = 2; // two messages of two lines each fit at 1024x768
  let refusedJSON = null; // the document of the last save the server refused

  function init() {
    document.getElementById("btn-save").addEventListener("click", () => save());
    document.getElementById("conflict-keep").addEventListener("click", () => document.getElementById("conflict-dialog").close());
    document.getElementById("conflict-reload").addEventListener("click", () => { S().leaving = true; window.location.reload(); });
    document.getElementById("secret-close").addEventListener("click", () => document.getElementById("secret-dialog").close());
    S().savedDocument = S().data.version ? S().data.document : null;
    if (!S().readOnly) validateSoon(0);
  }

  // Ask the server for problems shortly after the user stops changing things, and at
  // least every few seconds while they keep going.
  function validateSoon(delay) {
    if (S().readOnly) return;
    clearTimeout(validateTimer);
    const now = Date.now();
    if (!firstPending) firstPending = now;
    const wait = delay !== undefined ? delay : now - firstPending > 1500 ? 0 : 400;
    validateTimer = setTimeout(validateNow, wait);
    checking(true);
  }

  // A change was made and a check will be asked for shortly (canvas.js debounces its changes):
  // the list is busy from now on, not only from when the check is scheduled.
  function checkDue() {
    if (!S().readOnly) checking(true);
  }

  // The problem list is busy while a check is due or on its way (it may open and move the canvas).
  function checking(busy) {
    const list = document.getElementById("problems");
    if (busy) list.setAttribute("aria-busy", "true");
    else list.removeAttribute("aria-busy");
  }

  async function validateNow() {
    firstPending = 0;
    validateTimer = null;
    const seq = ++validateSeq;
    const doc = S().toDocument();
    const result = await S().api("POST", S().data.urls.validate, { document: doc, flow_id: S().data.flow.id });
    if (seq !== validateSeq) return; // a newer check is on its way
    if (validateTimer === null) checking(false); // else a newer one is due
    if (result.status !== 200 || !result.body) return;
    // Until the user changes something, the list keeps saying why the save was refused.
    setProblems(result.body.problems || [], JSON.stringify(doc) === refusedJSON);
  }

  // The same problem can reach us twice (e.g. a node found by two checks): list it once.
  function unique(problems) {
    const seen = new Set();
    return problems.filter((p) => {
      const key = JSON.stringify([p.node_id || null, p.edge_id || null, p.path || null, p.message, p.severity || "error"]);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  }

  function setProblems(problems, fromSave) {
    S().problems = unique(problems || []);
    // Amber while drawing (a hint), red once a save was refused because of them.
    document.getElementById("canvas-app").classList.toggle("save-refused", !!fromSave && problems.length > 0);
    S().refreshAll();
    SB.panel.problemsChanged();
    renderProblems(fromSave);
  }

  const label = (nodeId) => (nodeId ? S().displayName(nodeId) : null);

  function heading(errors, warnings, fromSave) {
    const count = (n, word) => `${n} ${word}${n > 1 ? "s" : ""}`;
    const warned = warnings ? `${count(warnings, "warning")} (they do not block saving)` : "";
    if (!errors) return warned;
    const fix = fromSave ? `Not published: fix ${count(errors, "problem")} first. Nothing on the canvas was lost.`
      : `${count(errors, "problem")} to fix before publishing`;
    return warned ? `${fix} · ${warned}` : fix;
  }

  function problemItem(problem) {
    const error = S().isError(problem);
    const where = label(problem.node_id) || (problem.edge_id ? "A connection" : "Flow");
    return el("li", { class: error ? "is-error" : "is-warning", "data-code": problem.code,
      "data-node-id": problem.node_id || null, "data-severity": error ? "error" : "warning" },
    el("span", { class: "problem-kind", text: error ? "Error" : "Warning" }),
    el("button", { type: "button", class: "link-like", onclick: () => focusProblem(problem) }, where), ": ",
    withoutName(problem.message, where));
  }

  // The server's messages start with the node's name; after the name's own link it would read twice.
  const withoutName = (message, where) => (message.startsWith(`${where}: `) ? message.slice(where.length + 2) : message);

  function renderProblems(fromSave) {
    const box = document.getElementById("problems");
    const problems = S().problems;
    const errors = problems.filter((p) => S().isError(p)).length;
    box.hidden = problems.length === 0;
    box.classList.toggle("after-save", !!fromSave && errors > 0);
    box.classList.toggle("has-errors", errors > 0);
    if (!problems.length) { box.replaceChildren(); return; }
    // Docked above the graph: collapsed while drawing, open after a refused save, and the
    // user's own choice wins once they have made one.
    const open = userExpanded !== null ? userExpanded : !!fromSave && errors > 0;
    const toggle = el("button", { type: "button", class: "link-like small", "aria-expanded": String(open),
      onclick: () => { userExpanded = !open; renderProblems(fromSave); } }, open ? "Hide" : "Show");
    // Errors first: they are what stops publishing.
    const sorted = problems.slice().sort((a, b) => Number(S().isError(b)) - Number(S().isError(a)));
    const items = sorted.map(problemItem);
    const more = sorted.length - FIRST_PROBLEMS;
    if (more > 0 && !showAll) items.slice(FIRST_PROBLEMS).forEach((item) => { item.hidden = true; });
    const list = el("ul", { hidden: !open }, ...items);
    const all = more > 0 && open ? el("button", { type: "button", class: "link-like small problems-more",
      "aria-expanded": String(showAll), "data-action": "all-problems",
      onclick: () => { showAll = !showAll; renderProblems(fromSave); } },
    showAll ? `Show only the first ${FIRST_PROBLEMS}` : `Show all ${sorted.length} (${more} more)`) : null;
    box.classList.toggle("shows-all", showAll && more > 0 && open);
    const scrolled = box.querySelector("ul") ? box.querySelector("ul").scrollTop : 0; // a redraw keeps the place
    box.replaceChildren(el("div", { class: "problems-head" }, el("h2", { text: heading(errors, problems.length - errors, fromSave) }), toggle), list, ...(all ? [all] : []));
    list.scrollTop = scrolled;
  }

  function focusProblem(problem) {
    const graph = S().graph;
    const cell = graph.getCellById(problem.node_id || problem.edge_id || "");
    if (!cell) return;
    S().selection.reset(cell);
    if (cell.isNode()) graph.centerCell(cell);
  }

  async function save(options) {
    if (S().readOnly || saving) return;
    SB.panel.flush();
    saving = true;
    const button = document.getElementById("btn-save");
    const state = document.getElementById("save-state");
    button.disabled = true;
    state.textContent = "Saving…";
    const doc = S().toDocument();
    const base = (options && options.baseVersion) || S().latestVersion;
    clearTimeout(validateTimer); // the save answers with the same problems a check would
    validateTimer = null;
    validateSeq += 1;
    checking(false);
    try {
      const result = await S().api("PUT", S().data.urls.save, { document: doc, base_version: base });
      SB.panel.settle(); // the problems this answer lists show next to their fields at once
      if (result.status === 200) saved(doc, result.body);
      else if (result.status === 400 && result.body && result.body.error && result.body.error.code === "invalid_flow") {
        userExpanded = null;
        showAll = false;
        refusedJSON = JSON.stringify(doc);
        setProblems(result.body.error.details || [], true);
        S().toast("Not published: the flow has problems (listed above the canvas).", "error");
      } else if (result.status === 409) conflict(result.body.error);
      else S().toast(`Not saved: ${S().errorMessage(result)}`, "error");
    } finally {
      saving = false;
      button.disabled = false;
      S().updateDirty();
    }
  }

  function saved(doc, body) {
    const canvas = S();
    canvas.latestVersion = body.version;
    canvas.savedDocument = body.document || doc;
    canvas.savedJSON = JSON.stringify(doc);
    refusedJSON = null;
    canvas.triggers = {};
    (body.triggers || []).forEach((t) => { canvas.triggers[t.node_id] = t; });
    setProblems(body.warnings || [], false); // the published answer lists what is only suspicious
    SB.panel.refresh();
    canvas.toast(body.published ? `Published version ${body.version}. Trigger URLs now run it.`
      : `No changes: version ${body.version} is already live.`, "ok");
    if (body.secrets && Object.keys(body.secrets).length) showSecrets(body.secrets);
    // Other parts of the page (runs, versions) can refresh on this, e.g. hx-trigger="canvas:saved from:document".
    document.dispatchEvent(new CustomEvent("canvas:saved", { detail: { version: body.version, published: body.published } }));
  }

  // Secrets of new triggers exist only in this answer: show each once, with a copy button.
  function showSecrets(secrets) {
    const list = document.getElementById("secret-list");
    list.replaceChildren(...Object.entries(secrets).map(([nodeId, secret]) => {
      const trigger = S().triggers[nodeId] || {};
      return el("div", { class: "secret", "data-secret-for": nodeId },
        el("p", {}, el("strong", { text: label(nodeId) }), trigger.url ? el("code", { class: "small url", text: ` POST ${trigger.url}` }) : null),
        el("div", { class: "copyrow" }, el("code", { "data-secret": nodeId, text: secret }),
          el("button", { type: "button", "data-copy": secret }, "Copy secret")));
    }));
    document.getElementById("secret-dialog").showModal();
  }

  function conflict(error) {
    const latest = error && error.details && error.details.latest_version;
    document.getElementById("conflict-message").textContent =
      `${(error && error.message) || "This flow was changed by someone else."} ` +
      (latest ? `Version ${latest} is now live; you started from version ${S().latestVersion}.` : "");
    const overwrite = document.getElementById("conflict-overwrite");
    overwrite.hidden = !latest;
    overwrite.onclick = () => {
      document.getElementById("conflict-dialog").close();
      save({ baseVersion: latest });
    };
    document.getElementById("conflict-dialog").showModal();
    S().toast("Not saved: someone else published a newer version.", "error");
  }

  // Whether a check of the latest change is due or on its way (its answer will replace the problems).
  const isChecking = () => document.getElementById("problems").hasAttribute("aria-busy");

  SB.save = { init, save, validateSoon, checkDue, setProblems, checking: isChecking };
})();
