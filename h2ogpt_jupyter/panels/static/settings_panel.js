// @ts-check
// The settings panel on its own: errors, status and the settings view.

/**
 * @param {{model: H2oSettingsModel<H2oMessage>, el: HTMLElement}} args
 * @returns {H2oCleanup}
 */
function render({ model: widget, el }) {
  const dropKeys = h2oOwnKeys(el);
  const [model, dropGone] = h2oWhenKernelGone(widget, el);
  const [errors, dropErrors] = h2oErrorsArea(model);
  const [status, dropStatus] = h2oStatusLine(model);
  const [settings, dropSettings] = h2oSettingsView(model);
  const refresh = h2oButton("↻ Refresh", "Re-read the chat's settings and the loaded models", () =>
    model.send({ type: "refresh" }),
  );
  el.replaceChildren(
    h2oEl(
      "div",
      { class: "h2o-panel h2o-settings-panel" },
      h2oEl("div", { class: "h2o-toolbar" }, h2oEl("strong", {}, "h2oGPT settings"), h2oEl("span", { class: "h2o-grow" }), refresh),
      errors,
      settings,
      status,
    ),
  );
  return () => {
    dropKeys();
    dropGone();
    dropErrors();
    dropStatus();
    dropSettings();
  };
}

export default { render };
