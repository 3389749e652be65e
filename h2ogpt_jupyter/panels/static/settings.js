// Settings: generation parameters (ranges from Python's param_specs), prompt fields,
// document options and the models part. Used by the settings panel and by the chat's Expert
// section. Every change is a {type: "settings", values} message; Python checks it and sends
// the values in force back, so a refused value snaps back.

function h2oParamControl(model, spec) {
  const send = (value) => model.send({ type: "settings", values: { [spec.name]: value } });
  const title = `${spec.help || ""}${spec.min !== undefined ? ` (${spec.min}–${spec.max})` : ""}`;
  const label = h2oEl("label", { class: "h2o-param-name", title }, spec.name.replace(/_/g, " "));
  let control;
  let set;
  if (spec.kind === "bool") {
    control = h2oEl("input", { type: "checkbox", onchange: () => send(control.checked) });
    set = (v) => (control.checked = Boolean(v));
  } else if (spec.kind === "list") {
    control = h2oEl("textarea", {
      rows: 2,
      placeholder: "one stop string per line",
      onchange: () => send(control.value.split("\n").filter((s) => s)),
    });
    set = (v) => (control.value = (v || []).join("\n"));
  } else {
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
    let slider = null;
    if (spec.slider) {
      slider = h2oEl("input", {
        type: "range",
        min: spec.min,
        max: spec.max,
        step: spec.step,
        oninput: () => (number.value = slider.value),
        onchange: () => send(parse(slider.value)),
      });
      parts.unshift(slider);
    }
    control = h2oEl("span", { class: "h2o-param-inputs" }, parts);
    set = (v) => {
      number.value = v;
      if (slider) slider.value = v;
    };
  }
  const reset = h2oButton("↺", `Default: ${JSON.stringify(spec.default)}`, () => send(spec.default), "h2o-icon");
  return [h2oEl("div", { class: "h2o-param" }, label, control, reset), set];
}

function h2oPromptFields(model) {
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
    const opts = model.get("chat_options") || {};
    const sp = opts.system_prompt;
    const mode = sp === "auto" ? "auto" : sp ? "custom" : "none";
    const free = (el) => force === true || document.activeElement !== el;
    if (free(system)) {
      systemMode.value = mode;
      system.value = mode === "custom" ? sp : "";
      system.hidden = mode !== "custom";
    }
    if (free(context)) context.value = opts.context || "";
    if (free(iinput)) iinput.value = opts.iinput || "";
    topK.value = opts.top_k_docs;
    h2oFillSelect(subset, (model.get("choices") || {}).subsets || [], opts.document_subset);
  };
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

function h2oModelsPart(model) {
  const table = h2oEl("table", { class: "h2o-table" });
  const drawTable = () => {
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

// The whole settings view. Returns [element, cleanup].
function h2oSettingsView(model) {
  const params = h2oEl("div", { class: "h2o-params" });
  const setters = {};
  const buildParams = () => {
    params.replaceChildren();
    for (const spec of model.get("param_specs") || []) {
      const [row, set] = h2oParamControl(model, spec);
      setters[spec.name] = set;
      params.append(row);
    }
    drawParams();
  };
  const drawParams = () => {
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
  const events = [
    ["change:param_specs", buildParams],
    ["change:params", drawParams],
    ["change:chat_options", () => drawPrompt()],
    ["change:choices", drawModels],
    ["change:models", drawTable],
    ["change:busy", drawBusy],
  ];
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
