// @ts-check
// Settings: generation parameters (ranges from Python's param_specs), prompt fields,
// document options and the models part. Used by the settings panel and by the chat's Expert
// section. Every change is a {type: "settings", values} message; Python checks it and sends
// the values in force back, so a refused value snaps back.

/**
 * One generation parameter's control (`_settings.param_specs`).
 * @typedef {{name: string, default: unknown, help: string, kind: "int" | "float" | "bool" | "list",
 *   min?: number, max?: number, step?: number, slider?: boolean}} H2oParamSpec
 */
/**
 * @typedef {{system_prompt: string, context: string, iinput: string, top_k_docs: number,
 *   document_subset: string}} H2oChatOptions
 */
/**
 * A loaded model (`SettingsBase.refresh_models`).
 * @typedef {{alias: string, model: string, backend: string, dtype: string, quantization: string,
 *   context_length: number | null, memory: string, prompt_type: string, default: boolean}} H2oModelRow
 */
/** @typedef {{backends: string[], dtypes: string[], prompt_types: string[], subsets: string[]}} H2oChoices */
/**
 * What the settings view syncs (`_settings.SettingsBase`).
 * @typedef {H2oPanelState & {param_specs: H2oParamSpec[], params: Record<string, unknown>,
 *   chat_options: H2oChatOptions, models: H2oModelRow[], default_model: string,
 *   choices: H2oChoices}} H2oSettingsState
 */
/**
 * A model the settings view can draw: any panel's whose state includes the settings.
 * @template {H2oMessage} M
 * @typedef {H2oModel<H2oSettingsState, M>} H2oSettingsModel
 */


/**
 * A parameter's row, and the function that shows a value in it.
 * @template {H2oMessage} M
 * @param {H2oSettingsModel<M>} model
 * @param {H2oParamSpec} spec
 * @returns {[HTMLElement, (value: unknown) => void]}
 */
function h2oParamControl(model, spec) {
  /** @param {unknown} value */
  const send = (value) => model.send({ type: "settings", values: { [spec.name]: value } });
  const title = `${spec.help || ""}${spec.min !== undefined ? ` (${spec.min}–${spec.max})` : ""}`;
  const label = h2oEl("label", { class: "h2o-param-name", title }, spec.name.replace(/_/g, " "));
  /** @type {HTMLElement} */
  let control;
  /** @type {(value: unknown) => void} */
  let set;
  if (spec.kind === "bool") {
    const box = h2oEl("input", { type: "checkbox", onchange: () => send(box.checked) });
    control = box;
    set = (v) => (box.checked = Boolean(v));
  } else if (spec.kind === "list") {
    const area = h2oEl("textarea", {
      rows: 2,
      placeholder: "one stop string per line",
      onchange: () => send(area.value.split("\n").filter((s) => s)),
    });
    control = area;
    set = (v) => (area.value = (/** @type {string[] | null} */ (v) || []).join("\n"));
  } else {
    /** @param {string} text */
    const parse = (text) => (spec.kind === "int" ? parseInt(text, 10) : parseFloat(text));
    const number = h2oEl("input", {
      type: "number",
      min: spec.min,
      max: spec.max,
      step: spec.step,
      class: "h2o-number",
      onchange: () => send(number.value === "" ? number.value : parse(number.value)),
    });
    const parts = [number];
    /** @type {HTMLInputElement | null} */
    let slider = null;
    if (spec.slider) {
      const range = h2oEl("input", {
        type: "range",
        min: spec.min,
        max: spec.max,
        step: spec.step,
        oninput: () => (number.value = range.value),
        onchange: () => send(parse(range.value)),
      });
      slider = range;
      parts.unshift(range);
    }
    control = h2oEl("span", { class: "h2o-param-inputs" }, parts);
    set = (v) => {
      number.value = String(v ?? "");
      if (slider) slider.value = String(v ?? "");
    };
  }
  const reset = h2oButton("↺", `Default: ${JSON.stringify(spec.default)}`, () => send(spec.default), "h2o-icon");
  return [h2oEl("div", { class: "h2o-param" }, label, control, reset), set];
}

/**
 * The prompt fields and document options, and their draw function.
 * @template {H2oMessage} M
 * @param {H2oSettingsModel<M>} model
 * @returns {[HTMLElement, (force?: boolean) => void]}
 */
function h2oPromptFields(model) {
  /** @param {Partial<Record<keyof H2oChatOptions, unknown>>} values */
  const send = (values) => model.send({ type: "settings", values });
  const systemMode = h2oSelect(
    [["auto", "model's default"], ["none", "none"], ["custom", "custom…"]],
    "auto",
    () => {
      if (systemMode.value === "auto") send({ system_prompt: "auto" });
      else if (systemMode.value === "none") send({ system_prompt: "" });
      else system.focus();
      system.hidden = systemMode.value !== "custom";
    },
    "System prompt",
  );
  const system = h2oEl("textarea", {
    rows: 3,
    placeholder: "You are a helpful assistant…",
    onchange: () => send({ system_prompt: system.value }),
  });
  const context = h2oEl("textarea", {
    rows: 2,
    placeholder: "text placed before the whole prompt (h2oGPT's context)",
    onchange: () => send({ context: context.value }),
  });
  const iinput = h2oEl("textarea", {
    rows: 2,
    placeholder: "second input joined to each question (h2oGPT's iinput)",
    onchange: () => send({ iinput: iinput.value }),
  });
  const topK = h2oEl("input", {
    type: "number",
    min: -1,
    step: 1,
    class: "h2o-number",
    title: "chunks given to the model (-1: as many as fit)",
    onchange: () => send({ top_k_docs: topK.value }),
  });
  const subset = h2oSelect([], "", () => send({ document_subset: subset.value }), "Document subset");
  // force: also the field being edited (after Python refused its value)
  const draw = (force = false) => {
    /** @type {Partial<H2oChatOptions>} */
    const opts = model.get("chat_options") || {};
    const sp = opts.system_prompt;
    const mode = sp === "auto" ? "auto" : sp ? "custom" : "none";
    /** @param {HTMLElement} el */
    const free = (el) => force === true || document.activeElement !== el;
    if (free(system)) {
      systemMode.value = mode;
      system.value = mode === "custom" ? String(sp) : "";
      system.hidden = mode !== "custom";
    }
    if (free(context)) context.value = opts.context || "";
    if (free(iinput)) iinput.value = opts.iinput || "";
    topK.value = String(opts.top_k_docs ?? "");
    /** @type {Partial<H2oChoices>} */
    const choices = model.get("choices") || {};
    h2oFillSelect(subset, choices.subsets || [], /** @type {string} */ (opts.document_subset));
  };
  /** @type {(name: string, ...controls: HTMLElement[]) => HTMLElement} */
  const row = (name, ...controls) =>
    h2oEl("div", { class: "h2o-param" }, h2oEl("label", { class: "h2o-param-name" }, name), ...controls);
  const node = h2oEl(
    "div",
    {},
    row("system prompt", h2oEl("span", { class: "h2o-stack" }, systemMode, system)),
    row("context", context),
    row("iinput", iinput),
    row("top k docs", topK),
    row("document subset", subset),
  );
  return [node, draw];
}

/**
 * The models table and the load form: [element, draw all, draw the table, draw busy].
 * @template {H2oMessage} M
 * @param {H2oSettingsModel<M>} model
 * @returns {[HTMLElement, () => void, () => void, () => void]}
 */
function h2oModelsPart(model) {
  const table = h2oEl("table", { class: "h2o-table" });
  const drawTable = () => {
    /** @type {H2oModelRow[]} */
    const rows = model.get("models") || [];
    const head = h2oEl(
      "tr",
      {},
      ["", "alias", "model", "backend", "dtype", "quant", "context", "memory", "prompt", ""].map(
        (h) => h2oEl("th", {}, h),
      ),
    );
    const body = rows.map((r) =>
      h2oEl(
        "tr",
        {},
        h2oEl("td", { title: r.default ? "default model" : "" }, r.default ? "★" : ""),
        h2oEl("td", {}, r.alias),
        h2oEl("td", { class: "h2o-path", title: r.model }, r.model),
        h2oEl("td", {}, r.backend),
        h2oEl("td", {}, r.dtype),
        h2oEl("td", {}, r.quantization || "-"),
        h2oEl("td", {}, r.context_length ?? ""),
        h2oEl("td", {}, r.memory),
        h2oEl("td", {}, r.prompt_type),
        h2oEl(
          "td",
          { class: "h2o-actions" },
          r.default ? null : h2oButton("Use", "Make this the default model", () => model.send({ type: "use_model", alias: r.alias })),
          h2oButton("Unload", "Free this model's memory", () => model.send({ type: "unload_model", alias: r.alias })),
        ),
      ),
    );
    table.replaceChildren(h2oEl("thead", {}, head), h2oEl("tbody", {}, body));
    if (rows.length === 0) {
      table.replaceChildren(h2oEl("tbody", {}, h2oEl("tr", {}, h2oEl("td", {}, "No model loaded."))));
    }
  };
  const name = h2oEl("input", { type: "text", placeholder: "smollm2, a .gguf, a folder or http://host:port/v1", class: "h2o-grow" });
  const alias = h2oEl("input", { type: "text", placeholder: "alias (optional)", size: 12 });
  const backend = h2oSelect([], "auto", null, "Engine");
  const dtype = h2oSelect([], "auto", null, "Weights type");
  const quant = h2oSelect([["", "full precision"], ["8bit", "8-bit"], ["4bit", "4-bit"]], "", null, "Quantization (transformers + bitsandbytes)");
  const lora = h2oEl("input", { type: "text", placeholder: "LoRA folder (optional)", size: 18 });
  const promptType = h2oSelect([], "", null, "Prompt format");
  const load = h2oButton("Load", "Load this model", () =>
    model.send({
      type: "load_model",
      name: name.value,
      alias: alias.value,
      backend: backend.value,
      dtype: dtype.value,
      quantization: quant.value,
      lora_weights: lora.value,
      prompt_type: promptType.value,
    }),
  "h2o-primary");
  const drawChoices = () => {
    /** @type {Partial<H2oChoices>} */
    const c = model.get("choices") || {};
    h2oFillSelect(backend, c.backends || ["auto"], backend.value || "auto");
    h2oFillSelect(dtype, c.dtypes || ["auto"], dtype.value || "auto");
    h2oFillSelect(
      promptType,
      (c.prompt_types || [""]).map((p) => [p, p || "prompt: automatic"]),
      promptType.value || "",
    );
  };
  const drawBusy = () => (load.disabled = Boolean(model.get("busy")));
  const node = h2oEl(
    "div",
    {},
    table,
    h2oEl("div", { class: "h2o-row h2o-wrap" }, name, alias, backend, dtype, quant, lora, promptType, load,
      h2oButton("↻", "Refresh the list", () => model.send({ type: "refresh_models" }), "h2o-icon")),
  );
  return [node, () => { drawTable(); drawChoices(); drawBusy(); }, drawTable, drawBusy];
}

/**
 * The whole settings view, and its cleanup.
 * @template {H2oMessage} M
 * @param {H2oSettingsModel<M>} model
 * @returns {[HTMLElement, H2oCleanup]}
 */
function h2oSettingsView(model) {
  const params = h2oEl("div", { class: "h2o-params" });
  /** @type {Record<string, (value: unknown) => void>} */
  const setters = {};
  const buildParams = () => {
    params.replaceChildren();
    /** @type {H2oParamSpec[]} */
    const specs = model.get("param_specs") || [];
    for (const spec of specs) {
      const [row, set] = h2oParamControl(model, spec);
      setters[spec.name] = set;
      params.append(row);
    }
    drawParams();
  };
  const drawParams = () => {
    /** @type {Record<string, unknown>} */
    const values = model.get("params") || {};
    for (const [name, set] of Object.entries(setters)) set(values[name]);
  };
  const [promptNode, drawPrompt] = h2oPromptFields(model);
  const [modelsNode, drawModels, drawTable, drawBusy] = h2oModelsPart(model);
  const node = h2oEl(
    "div",
    { class: "h2o-settings" },
    h2oEl("details", { open: true }, h2oEl("summary", {}, "Generation"), params,
      h2oButton("Reset all", "h2oGPT's defaults", () => model.send({ type: "reset_params" }))),
    h2oEl("details", { open: true }, h2oEl("summary", {}, "Prompt and documents"), promptNode),
    h2oEl("details", { open: true }, h2oEl("summary", {}, "Models"), modelsNode),
  );
  buildParams();
  drawPrompt();
  drawModels();
  /** @type {H2oSubscription<H2oSettingsState, M>[]} */
  const events = [
    ["change:param_specs", buildParams],
    ["change:params", drawParams],
    ["change:chat_options", () => drawPrompt()],
    ["change:choices", drawModels],
    ["change:models", drawTable],
    ["change:busy", drawBusy],
  ];
  /** @param {M} msg */
  const onMessage = (msg) => {
    if (msg && msg.type === "redraw_settings") {
      drawParams();
      drawPrompt(true);
    }
  };
  events.push(["msg:custom", onMessage]);
  for (const [event, fn] of events) model.on(event, fn);
  return [node, () => events.forEach(([event, fn]) => model.off(event, fn))];
}
