// il6sim dashboard page: plain fetch() calls to the server's JSON API (see _app.py).
// Forms are never reset by a run or an error: what the user typed stays in the inputs.
"use strict";

const $ = (id) => document.getElementById(id);
const STORE = "il6sim.explore";
// +1: higher is better, -1: lower is better (used to colour the change column).
const BETTER = { min_pf: 1, peak_sofa: -1, storm_hours: -1, death_probability: -1 };
let OPTIONS = null;

// ------------------------------------------------------------------ helpers
function format(value, spec) {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  const digits = parseInt(spec.slice(1), 10);
  if (spec.endsWith("%")) return (100 * value).toFixed(digits) + " %";
  if (spec.endsWith("f")) return value.toFixed(digits);
  if (value !== 0 && (Math.abs(value) >= 1e5 || Math.abs(value) < 1e-3)) {
    return value.toExponential(Math.max(digits - 1, 0));
  }
  return String(Number(value.toPrecision(digits)));
}

function formValues(form) {
  const data = {};
  for (const element of form.elements) {
    if (element.name && element.type !== "file") data[element.name] = element.value;
  }
  return data;
}

function clearError(prefix, form) {
  $(prefix + "-error").hidden = true;
  $(prefix + "-error").textContent = "";
  for (const element of form.querySelectorAll(".invalid")) {
    element.classList.remove("invalid");
    element.removeAttribute("aria-invalid");
  }
}

function showError(prefix, form, message, field) {
  const box = $(prefix + "-error");
  box.textContent = message;
  box.hidden = false;
  const element = field ? form.elements[field] : null;
  if (element) {
    element.classList.add("invalid");
    element.setAttribute("aria-invalid", "true");
  }
}

async function request(url, options) {
  let response;
  try {
    response = await fetch(url, options);
  } catch (err) {
    return { ok: false, body: { error: "the il6sim server does not answer; fix: start it " +
                                       "again with `il6sim serve`" } };
  }
  let body;
  try {
    body = await response.json();
  } catch (err) {
    body = { error: `the server answered ${response.status} without a message` };
  }
  return { ok: response.ok, body };
}

function postJSON(url, data) {
  return request(url, { method: "POST", headers: { "Content-Type": "application/json" },
                        body: JSON.stringify(data) });
}

function cellId(text) {
  return String(text).toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
}

// A table {columns, rows} as HTML; each cell gets id `${prefix}-${row key}-${column}` and
// numbers their full value in data-value; `formats` maps a column to a format (".1%").
function fillTable(table, data, prefix, rowKey, formats = {}) {
  table.textContent = "";
  const head = table.createTHead().insertRow();
  for (const column of data.columns) {
    const th = document.createElement("th");
    th.textContent = column.replace(/_/g, " ");
    head.appendChild(th);
  }
  const body = table.createTBody();
  data.rows.forEach((row, i) => {
    const tr = body.insertRow();
    const key = cellId(rowKey ? rowKey(row, i) : row[0]);
    row.forEach((value, j) => {
      const td = tr.insertCell();
      td.id = `${prefix}-${key}-${cellId(data.columns[j])}`;
      const spec = formats[data.columns[j]];
      if (typeof value === "number") {
        td.dataset.value = String(value);
        td.textContent = spec ? format(value, spec)
          : Number.isInteger(value) ? String(value) : format(value, ".4g");
      } else {
        td.textContent = value === null ? "–" : String(value);
        if (value !== null) td.className = "text";
      }
    });
  });
}

// ------------------------------------------------------------------ tabs
function showTab(name) {
  for (const button of document.querySelectorAll(".tabs button")) {
    const active = button.dataset.tab === name;
    button.setAttribute("aria-selected", active ? "true" : "false");
    $("panel-" + button.dataset.tab).hidden = !active;
  }
}

// ------------------------------------------------------------------ explore
function fillPreset(name) {
  const preset = OPTIONS.presets.find((p) => p.name === name);
  if (!preset) return;
  $("preset-description").textContent = preset.description;
  for (const key of ["age", "ifn_capacity", "body_weight", "duration_days"]) {
    $(key).value = String(preset[key]);
  }
  // a first dose after the end of the new infection's course would only be an error
  if (Number($("treatment_day").value) >= preset.duration_days) $("treatment_day").value = "0";
}

function fillDrug(name) {
  const drug = OPTIONS.drugs[name];
  $("drug-description").textContent = drug ? drug.description : "untreated only";
  if (!drug) return;
  $("dose").value = String(drug.dose);
  $("dose_unit").value = drug.dose_unit;
  $("route").value = drug.route;
}

function renderExplore(result) {
  $("explore-title").textContent = result.title;
  const treated = "treated" in result.numbers;
  $("explore-treated-head").textContent = treated ? result.treated_label : "treated (no drug)";
  const body = $("explore-table").tBodies[0];
  body.textContent = "";
  for (const [key, label, unit, spec] of result.metrics) {
    const tr = body.insertRow();
    tr.insertCell().textContent = unit === "%" ? label : `${label} (${unit})`;
    const before = result.numbers.untreated[key];
    const after = treated ? result.numbers.treated[key] : null;
    const change = treated && before !== null && after !== null ? after - before : null;
    for (const [arm, value] of [["untreated", before], ["treated", after], ["change", change]]) {
      const td = tr.insertCell();
      td.id = `out-${key}-${arm}`;
      td.dataset.value = value === null ? "" : String(value);
      let text = format(value, spec);
      if (arm === "change" && value !== null) {
        text = (value > 0 ? "+" : "") + text.replace(" %", spec.endsWith("%") ? " points" : "");
        if (BETTER[key] && value !== 0) {
          td.className = Math.sign(value) === BETTER[key] ? "better" : "worse";
        }
      }
      td.textContent = text;
    }
  }
  $("explore-notes").textContent = result.notes.length
    ? "Integration problems: " + result.notes.join("; ") : "";
  $("explore-figure").innerHTML = result.svg;
}

async function runExplore(event) {
  if (event) event.preventDefault();
  const form = $("explore-form");
  clearError("explore", form);
  const data = formValues(form);
  localStorage.setItem(STORE, JSON.stringify(data));
  $("explore-run").disabled = true;
  $("explore-status").textContent = "simulating…";
  const started = performance.now();
  const answer = await postJSON("/api/explore", data);
  $("explore-run").disabled = false;
  if (!answer.ok) {
    $("explore-status").textContent = "";
    showError("explore", form, answer.body.error, answer.body.field);
    return;
  }
  renderExplore(answer.body);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  $("explore-status").textContent = `done in ${seconds} s`;
}

function restoreExplore() {
  let saved = null;
  try {
    saved = JSON.parse(localStorage.getItem(STORE) || "null");
  } catch (err) {
    saved = null;
  }
  const form = $("explore-form");
  if (!saved) {
    fillPreset($("preset").value);
    fillDrug($("drug").value);
    return;
  }
  for (const [name, value] of Object.entries(saved)) {
    if (form.elements[name]) form.elements[name].value = value;
  }
  const preset = OPTIONS.presets.find((p) => p.name === $("preset").value);
  $("preset-description").textContent = preset ? preset.description : "";
  const drug = OPTIONS.drugs[$("drug").value];
  $("drug-description").textContent = drug ? drug.description : "untreated only";
}

// ------------------------------------------------------------------ background jobs
// Starts a job with `start()` (a request answering {job}), polls its progress, shows the
// result with `render(result)`; the Cancel button stops it on the server.
function jobRunner(prefix, start, render) {
  const form = $(prefix + "-form");
  let current = null;
  const status = (text) => { $(prefix + "-status").textContent = text; };
  const idle = () => {
    current = null;
    $(prefix + "-run").disabled = false;
    $(prefix + "-cancel").disabled = true;
  };
  async function poll(id) {
    if (current !== id) return;
    const answer = await request(`/api/jobs/${id}`);
    if (current !== id) return;
    if (!answer.ok) {
      idle();
      showError(prefix, form, answer.body.error, null);
      return;
    }
    const job = answer.body;
    $(prefix + "-progress").value = job.progress;
    if (job.status === "done") {
      idle();
      status(`done in ${job.elapsed_s.toFixed(1)} s`);
      render(job.result);
    } else if (job.status === "failed") {
      idle();
      status("");
      showError(prefix, form, job.error, null);
    } else if (job.status === "cancelled") {
      idle();
      status(`cancelled after ${job.elapsed_s.toFixed(1)} s`);
    } else {
      status(`${job.message} (${job.elapsed_s.toFixed(0)} s)`);
      setTimeout(() => poll(id), 400);
    }
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError(prefix, form);
    $(prefix + "-run").disabled = true;
    $(prefix + "-progress").value = 0;
    status("starting…");
    const answer = await start(form);
    if (!answer.ok) {
      idle();
      status("");
      showError(prefix, form, answer.body.error, answer.body.field);
      return;
    }
    current = answer.body.job;
    form.dataset.job = current;
    $(prefix + "-cancel").disabled = false;
    poll(current);
  });
  $(prefix + "-cancel").addEventListener("click", async () => {
    if (!current) return;
    const id = current;
    $(prefix + "-cancel").disabled = true;
    status("cancelling…");
    const answer = await postJSON(`/api/jobs/${id}/cancel`, {});
    if (current === id) {
      idle();
      status(answer.ok ? `cancelled after ${answer.body.elapsed_s.toFixed(1)} s` : "");
    }
  });
}

function renderTwin(result) {
  const outcome = result.outcome === "unknown" ? "outcome unknown" : result.outcome;
  $("twin-summary").textContent =
    `Patient ${result.patient} (age ${result.age}, ${outcome}): ${result.labs_fitted} labs ` +
    `fitted up to day ${format(result.now_days, ".3g")} in ${result.fit_seconds} s; ` +
    `${format(result.effective_draws, ".3g")} effective posterior draws. Later labs inside ` +
    `the 90 % interval: ${result.later_labs_covered} of ${result.later_labs}.`;
  fillTable($("twin-death"), result.death, "twin-death",
            (row, i) => (i === 0 ? "untreated" : "treated"),
            { probability: ".1%", low: ".1%", high: ".1%" });
  $("twin-figure").innerHTML = result.svg;
  fillTable($("twin-parameters"), result.parameters, "twin-parameter");
}

function renderTrial(result) {
  $("trial-summary").textContent = `${result.title || result.trial}: ${result.n_patients} ` +
    `patients randomised (seed ${result.seed}) in ${result.seconds} s.`;
  const link = $("trial-download");
  if (link.href) URL.revokeObjectURL(link.href);
  link.href = URL.createObjectURL(new Blob([result.markdown], { type: "text/markdown" }));
  link.download = `${result.trial}.md`;
  link.hidden = false;
  $("trial-figure").innerHTML = result.svg;
  fillTable($("trial-arms"), result.arms, "trial-arm",
            (row) => `${row[0]}-${row[1]}`);
  fillTable($("trial-comparisons"), result.comparisons, "trial-comparison",
            (row, i) => `${i}`);
}

// ------------------------------------------------------------------ start-up
function fillOptions() {
  $("preset").textContent = "";
  for (const preset of OPTIONS.presets) {
    $("preset").add(new Option(preset.name, preset.name, false, preset.name === "covid19-severe"));
  }
  for (const name of Object.keys(OPTIONS.drugs)) {
    $("drug").add(new Option(name, name, false, name === "tocilizumab"));
  }
  for (const name of OPTIONS.regimens) {
    $("twin-regimen").add(new Option(name, name, false, name === "tocilizumab-covid-8mgkg"));
  }
  if (!OPTIONS.trial_engine || OPTIONS.trials.length === 0) {
    $("trial-unavailable").textContent = "The trial engine (il6sim.trial) is not available " +
      "in this installation, so trials cannot run here; the other tabs work.";
    $("trial-unavailable").hidden = false;
    $("trial-run").disabled = true;
  }
  for (const trial of OPTIONS.trials) {
    $("trial-name").add(new Option(trial.name, trial.name));
  }
  const describeTrial = () => {
    const trial = OPTIONS.trials.find((t) => t.name === $("trial-name").value);
    $("trial-description").textContent = trial ? trial.description : "";
  };
  $("trial-name").addEventListener("change", describeTrial);
  describeTrial();
}

async function waitUntilReady() {
  for (;;) {
    const answer = await request("/api/health");
    if (answer.ok && answer.body.ready) return answer.body;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function main() {
  for (const button of document.querySelectorAll(".tabs button")) {
    button.addEventListener("click", () => showTab(button.dataset.tab));
  }
  const health = await waitUntilReady();
  const answer = await request("/api/options");
  if (!answer.ok) {
    $("server-status").textContent = "error: " + answer.body.error;
    return;
  }
  OPTIONS = answer.body;
  fillOptions();
  restoreExplore();
  $("preset").addEventListener("change", () => fillPreset($("preset").value));
  $("drug").addEventListener("change", () => fillDrug($("drug").value));
  $("explore-form").addEventListener("submit", runExplore);
  jobRunner("twin", (form) => request("/api/twin", { method: "POST", body: new FormData(form) }),
            renderTwin);
  jobRunner("trial", (form) => postJSON("/api/trial", formValues(form)), renderTrial);
  $("server-status").textContent = health.warm_up_error
    ? "warning: the model did not warm up (" + health.warm_up_error + ")" : "ready";
  document.body.dataset.ready = "true";
  await runExplore();
}

document.addEventListener("DOMContentLoaded", main);
