// @ts-check
// Document ingest: upload files (sent as binary buffers), add URLs or paste text into a
// collection, watch progress and per-file results, list and delete the collection's sources.
// Actions: {type: "upload", names} + buffers, {type: "url", url}, {type: "paste", text, name},
// {type: "delete", sources}, {type: "refresh"}; the collection is the synced `collection`.

/**
 * One input's result (`FileResult.to_dict`, or an error row).
 * @typedef {{source: string, status: string, chunks?: number, pages?: number, parser?: string,
 *   message?: string}} IngestResult
 */
/**
 * A document of the collection (`IngestPanel._refresh`).
 * @typedef {{source: string, name: string, chunks: number, pages: number, parser: string,
 *   date: string, bytes: number, warnings: string}} IngestSource
 */
/**
 * @typedef {H2oPanelState & {collection: string, collections: string[],
 *   progress: {done?: number, total?: number, current?: string}, results: IngestResult[],
 *   summary: string, sources: IngestSource[]}} IngestState
 */
/** @typedef {H2oModel<IngestState, H2oMessage>} IngestModel */

const H2O_NEW = "\u0000new"; // the select's "New collection…" entry

/**
 * @param {{model: IngestModel, el: HTMLElement}} args
 * @returns {H2oCleanup}
 */
function render({ model: widget, el }) {
  const dropKeys = h2oOwnKeys(el);
  const [model, dropGone] = h2oWhenKernelGone(widget, el);
  const [errors, dropErrors] = h2oErrorsArea(model);
  const [status, dropStatus] = h2oStatusLine(model);

  const newName = h2oEl("input", { type: "text", placeholder: "new collection name", hidden: true });
  const select = h2oSelect([], model.get("collection"), () => {
    if (select.value === H2O_NEW) {
      newName.hidden = false;
      newName.focus();
      return;
    }
    newName.hidden = true;
    model.set("collection", select.value);
    model.save_changes();
  }, "Collection");
  newName.addEventListener("change", () => {
    if (!newName.value.trim()) return;
    model.set("collection", newName.value.trim());
    model.save_changes();
    newName.value = "";
    newName.hidden = true;
  });

  const files = h2oEl("input", { type: "file", multiple: true, class: "h2o-grow" });
  /** @param {FileList | null | undefined} list */
  const upload = async (list) => {
    const { names, buffers } = await h2oReadFiles(list);
    if (buffers.length) model.send({ type: "upload", names }, undefined, buffers);
  };
  const uploadBtn = h2oButton("Upload", "Add the chosen files", async () => {
    await upload(files.files);
    files.value = "";
  }, "h2o-primary");
  const drop = h2oEl("div", { class: "h2o-drop" }, "Drop files here, or choose: ", files, uploadBtn);
  drop.addEventListener("dragover", (event) => {
    event.preventDefault();
    drop.classList.add("h2o-on");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("h2o-on"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("h2o-on");
    upload(event.dataTransfer?.files);
  });

  const url = h2oEl("input", { type: "text", placeholder: "https://… or arxiv:2301.00001 (several: separate with spaces)", class: "h2o-grow" });
  const urlBtn = h2oButton("Add URL", "Fetch and add", () => {
    if (!url.value.trim()) return;
    model.send({ type: "url", url: url.value });
    url.value = "";
  });
  const pasted = h2oEl("textarea", { rows: 3, placeholder: "Paste text to add", class: "h2o-grow" });
  const pasteName = h2oEl("input", { type: "text", placeholder: "name (to replace it later)", size: 22 });
  const pasteBtn = h2oButton("Add text", "Add the pasted text", () => {
    if (!pasted.value.trim()) return;
    model.send({ type: "paste", text: pasted.value, name: pasteName.value });
    pasted.value = "";
    pasteName.value = "";
  });

  const bar = h2oEl("progress", { max: 1, value: 0 });
  const barText = h2oEl("span", { class: "h2o-muted" });
  const progress = h2oEl("div", { class: "h2o-row" }, bar, barText);
  const summary = h2oEl("div", { class: "h2o-summary" });
  const results = h2oEl("table", { class: "h2o-table" });
  const sources = h2oEl("table", { class: "h2o-table" });

  const drawCollections = () => {
    const names = [...(model.get("collections") || [])];
    const current = model.get("collection");
    if (!names.includes(current)) names.push(current);
    h2oFillSelect(select, [...names, [H2O_NEW, "New collection…"]], current);
  };
  const drawProgress = () => {
    /** @type {IngestState["progress"]} */
    const p = model.get("progress") || {};
    const busy = Boolean(model.get("busy"));
    progress.hidden = !busy && !p.total;
    bar.max = Math.max(p.total || 0, 1);
    bar.value = p.done || 0;
    barText.textContent = p.total ? `${p.done}/${p.total}${p.current ? ` · ${p.current}` : ""}` : "";
    summary.textContent = model.get("summary") || "";
  };
  const drawResults = () => {
    const rows = model.get("results") || [];
    results.hidden = rows.length === 0;
    results.replaceChildren(
      h2oEl("thead", {}, h2oEl("tr", {}, ["status", "source", "chunks", "pages", "note"].map((h) => h2oEl("th", {}, h)))),
      h2oEl("tbody", {}, rows.map((r) =>
        h2oEl("tr", { class: `h2o-result-${r.status}` },
          h2oEl("td", {}, r.status),
          h2oEl("td", { class: "h2o-path", title: r.source }, r.source),
          h2oEl("td", {}, r.chunks ?? ""),
          h2oEl("td", {}, r.pages ?? ""),
          h2oEl("td", {}, r.message || "")))),
    );
  };
  const drawSources = () => {
    const rows = model.get("sources") || [];
    const head = h2oEl("tr", {}, ["source", "chunks", "pages", "type", "added", ""].map((h) => h2oEl("th", {}, h)));
    const body = rows.map((r) =>
      h2oEl("tr", {},
        h2oEl("td", { class: "h2o-path", title: r.source }, r.name, r.warnings ? h2oEl("span", { class: "h2o-badge", title: r.warnings }, "!") : null),
        h2oEl("td", {}, r.chunks),
        h2oEl("td", {}, r.pages || "-"),
        h2oEl("td", {}, r.parser),
        h2oEl("td", {}, r.date),
        h2oEl("td", {}, h2oButton("Delete", "Remove this document from the collection", () => {
          if (confirm(`Remove ${r.name} from ${model.get("collection")}?`)) model.send({ type: "delete", sources: [r.source] });
        }))));
    sources.replaceChildren(
      h2oEl("thead", {}, head),
      h2oEl("tbody", {}, body.length ? body : h2oEl("tr", {}, h2oEl("td", { colspan: 6, class: "h2o-muted" }, "No documents yet."))),
    );
  };
  const drawBusy = () => {
    const busy = Boolean(model.get("busy"));
    for (const b of [uploadBtn, urlBtn, pasteBtn]) b.disabled = busy;
    drawProgress();
  };
  /** @type {H2oSubscription<IngestState>[]} */
  const events = [
    ["change:collections", drawCollections],
    ["change:collection", drawCollections],
    ["change:progress", drawProgress],
    ["change:summary", drawProgress],
    ["change:results", drawResults],
    ["change:sources", drawSources],
    ["change:busy", drawBusy],
  ];
  for (const [event, fn] of events) model.on(event, fn);

  el.replaceChildren(
    h2oEl("div", { class: "h2o-panel h2o-ingest" },
      h2oEl("div", { class: "h2o-toolbar" }, h2oEl("label", {}, "Collection ", select), newName,
        h2oEl("span", { class: "h2o-grow" }),
        h2oButton("↻", "Refresh the sources", () => model.send({ type: "refresh" }), "h2o-icon")),
      errors,
      drop,
      h2oEl("div", { class: "h2o-row" }, url, urlBtn),
      h2oEl("div", { class: "h2o-row" }, pasted, h2oEl("div", { class: "h2o-stack" }, pasteName, pasteBtn)),
      progress,
      summary,
      results,
      h2oEl("h4", {}, "Documents"),
      sources,
      status),
  );
  drawCollections();
  drawBusy();
  drawResults();
  drawSources();
  return () => {
    dropKeys();
    dropGone();
    events.forEach(([event, fn]) => model.off(event, fn));
    dropErrors();
    dropStatus();
  };
}

export default { render };
