// "Test": run the canvas as it is now, unsaved, on a worker, with inputs from a form.
// The server checks the document exactly as a save does (its problems show as a refused save's
// do) and records the run as a test run of a hidden draft; nothing is published. The form is
// built from the canvas's own start node and starts from the last test's inputs (pinned on the
// server per flow); the run is then followed live by canvas-run.js, like Run now.
(function () {
  "use strict";
  const SB = (window.Switchboard = window.Switchboard || {});
  const { el } = SB.forms;
  const S = () => SB.canvas;

  let pinned = {}; // the inputs of the last test, to prefill the next one
  let inputs = []; // the start node's declared inputs when the dialog opened
  let sending = false;

  function init() {
    const button = document.getElementById("btn-test");
    if (!button) return;
    button.hidden = S().readOnly;
    pinned = (S().data && S().data.test_inputs) || {};
    button.addEventListener("click", open);
    document.getElementById("test-cancel").addEventListener("click", () => document.getElementById("test-dialog").close());
    document.getElementById("test-form").addEventListener("submit", (e) => { e.preventDefault(); submit(); });
  }

  function open() {
    if (SB.panel && SB.panel.flush) SB.panel.flush(); // a half-typed field counts
    const doc = S().toDocument();
    if (!(doc.nodes || []).some((n) => n.type === "start")) {
      S().toast("Add a Start node first: a test runs from it, with the inputs it declares.", "error");
      return;
    }
    inputs = SB.run.declaredInputs(doc);
    const fields = document.getElementById("test-fields");
    fields.replaceChildren(...(inputs.length ? inputs.map((input) => SB.run.inputField(input, pinned[input.name]))
      : [el("p", { class: "muted", text: "The Start node declares no inputs; the test runs as is." })]));
    document.getElementById("test-error").hidden = true;
    document.getElementById("test-dialog").showModal();
    const first = fields.querySelector("input, textarea, select");
    if (first) first.focus();
  }

  async function submit() {
    if (sending) return;
    document.querySelectorAll("#test-dialog .field-error").forEach((e) => { e.hidden = true; });
    const values = SB.run.collect(inputs, "test-fields");
    if (!values) return;
    const submitButton = document.getElementById("test-submit");
    sending = submitButton.disabled = true;
    const body = { document: S().toDocument(), inputs: values, wait_seconds: 0 }; // follow it live instead
    try {
      const result = await S().api("POST", S().data.urls.test, body);
      answered(result, values);
    } finally {
      sending = submitButton.disabled = false;
    }
  }

  function answered(result, values) {
    const error = (result.body && result.body.error) || {};
    if (result.status === 200 || result.status === 202) {
      pinned = values;
      document.getElementById("test-dialog").close();
      SB.run.follow(result.body.run_id, { test: true });
      S().toast("Testing the draft: watch the nodes. Nothing was published.", "ok");
    } else if (result.status === 400 && error.code === "invalid_flow") {
      document.getElementById("test-dialog").close();
      SB.save.setProblems(error.details || [], true);
      S().toast("Not tested: the flow has problems (listed below the canvas). Fix them and test again.", "error");
    } else {
      SB.run.showErrors(result, "test-fields", "test-error");
    }
  }

  SB.test = { init, open };
})();
