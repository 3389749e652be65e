// The chat panel. Python owns the conversation: `messages` is synced state, answers stream in
// as {type: "delta", index, text} messages and the finished turn is committed to `messages`.
// Actions go to Python as {type: ...} messages (send, stop, regenerate, undo, clear, save,
// new, open, delete, export, load_file, refresh, refresh_modes).

function h2oMessageView(msg, index, streamText) {
  const user = msg.role === "user";
  const body = h2oEl("div", { class: "h2o-msg-body" });
  const text = (msg.content || "") + (streamText || "");
  if (user) body.textContent = text;
  else h2oSetMarkdown(body, text);
  if (msg.streaming && !streamText) body.append(h2oEl("span", { class: "h2o-typing" }, "…"));
  const stopped = msg.finish_reason && msg.finish_reason !== "stop";
  return h2oEl(
    "div",
    { class: `h2o-msg ${user ? "h2o-user" : "h2o-bot"}`, "data-index": index },
    h2oEl("div", { class: "h2o-msg-role" }, user ? "You" : "Assistant",
      stopped ? h2oEl("span", { class: "h2o-badge" }, msg.finish_reason) : null),
    body,
    user ? null : h2oSourcesView(msg.sources),
    msg.stats ? h2oEl("div", { class: "h2o-msg-stats" }, msg.stats) : null,
  );
}

function h2oSavedChats(model) {
  const name = h2oEl("input", { type: "text", placeholder: "chat name", class: "h2o-grow" });
  const fileInput = h2oEl("input", {
    type: "file",
    accept: ".json,application/json",
    multiple: true,
    hidden: true,
    onchange: async () => {
      const { names, buffers } = await h2oReadFiles(fileInput.files);
      if (buffers.length) model.send({ type: "load_file", names }, undefined, buffers);
      fileInput.value = "";
    },
  });
  const list = h2oEl("ul", { class: "h2o-saved-list" });
  const draw = () => {
    if (document.activeElement !== name) name.value = model.get("chat_name") || "";
    const current = model.get("chat_name");
    list.replaceChildren(
      ...(model.get("saved") || []).map((row) =>
        h2oEl(
          "li",
          { class: row.name === current ? "h2o-current" : "" },
          h2oEl(
            "button",
            { class: "h2o-link", type: "button", title: `Open (${row.modified})`, onclick: () => model.send({ type: "open", name: row.name }) },
            row.name,
          ),
          h2oEl("span", { class: "h2o-muted" }, row.error ? "unreadable" : `${row.turns} turns`),
          h2oButton("⇩", "Download as JSON", () => model.send({ type: "export", names: [row.name] }), "h2o-icon"),
          h2oButton("✕", "Delete", () => {
            if (confirm(`Delete the saved chat '${row.name}'?`)) model.send({ type: "delete", name: row.name });
          }, "h2o-icon"),
        ),
      ),
    );
    if (list.children.length === 0) list.append(h2oEl("li", { class: "h2o-muted" }, "No saved chats."));
  };
  const node = h2oEl(
    "aside",
    { class: "h2o-side" },
    h2oEl("div", { class: "h2o-row" }, name, h2oButton("Save", "Save this chat", () => model.send({ type: "save", name: name.value }), "h2o-primary")),
    h2oEl("div", { class: "h2o-row" },
      h2oButton("New chat", "Start over with the same settings", () => model.send({ type: "new" })),
      h2oButton("Export this", "Download this chat as JSON", () => model.send({ type: "export", current: true }))),
    list,
    h2oEl("div", { class: "h2o-row" },
      h2oButton("Export all", "Download every saved chat as one JSON file", () => model.send({ type: "export" })),
      h2oButton("Import…", "Add chats from a JSON export", () => fileInput.click()),
      fileInput),
  );
  return [node, draw];
}

function render({ model, el }) {
  const dropKeys = h2oOwnKeys(el);
  const [errors, dropErrors] = h2oErrorsArea(model);
  const [status, dropStatus] = h2oStatusLine(model);
  const [settings, dropSettings] = h2oSettingsView(model);
  const [saved, drawSaved] = h2oSavedChats(model);
  settings.hidden = true;
  saved.hidden = true;

  const save = () => model.save_changes();
  const modelSelect = h2oSelect([], "", () => { model.set("model", modelSelect.value); save(); }, "Model");
  modelSelect.addEventListener("focus", () => model.send({ type: "refresh_models" }));
  const modeSelect = h2oSelect([], "ChatLLM", () => { model.set("mode", modeSelect.value); save(); },
    "ChatLLM: chat without documents; LLM: one question at a time; or a collection to answer from");
  modeSelect.addEventListener("focus", () => model.send({ type: "refresh_modes" }));
  const tokens = h2oEl("span", { class: "h2o-muted", title: "Tokens the conversation takes in the model's prompt" });
  const title = h2oEl("span", { class: "h2o-chat-title" });
  const toggle = (node, button) => () => {
    node.hidden = !node.hidden;
    button.classList.toggle("h2o-on", !node.hidden);
  };
  const expertBtn = h2oButton("⚙ Expert", "Generation settings, prompt and models");
  expertBtn.addEventListener("click", toggle(settings, expertBtn));
  const chatsBtn = h2oButton("☰ Chats", "Saved chats, export and import");
  chatsBtn.addEventListener("click", toggle(saved, chatsBtn));

  const list = h2oEl("div", { class: "h2o-messages" });
  const input = h2oEl("textarea", { class: "h2o-input", rows: 2, placeholder: "Message (Enter to send, Shift+Enter for a new line)" });
  const sendBtn = h2oButton("Send", "Send (Enter)", () => send(), "h2o-primary");
  const stopBtn = h2oButton("■ Stop", "Stop the answer", () => model.send({ type: "stop" }), "h2o-danger");
  const regenBtn = h2oButton("↻ Regenerate", "Answer the last question again", () => model.send({ type: "regenerate" }));
  const undoBtn = h2oButton("↶ Undo", "Remove the last turn", () => model.send({ type: "undo" }));
  const clearBtn = h2oButton("Clear", "Empty this chat", () => model.send({ type: "clear" }));
  const send = () => {
    const text = input.value;
    if (!text.trim() || model.get("busy")) return;
    model.send({ type: "send", text });
    input.value = "";
  };
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      send();
    }
  });

  let stream = { index: -1, text: "" };
  const nearBottom = () => list.scrollHeight - list.scrollTop - list.clientHeight < 60;
  const drawMessages = () => {
    const stick = nearBottom();
    const messages = model.get("messages") || [];
    list.replaceChildren(
      ...messages.map((msg, i) => h2oMessageView(msg, i, i === stream.index ? stream.text : "")),
    );
    if (messages.length === 0) list.append(h2oEl("div", { class: "h2o-empty" }, "Ask anything. Answers are generated on this machine."));
    if (stick) list.scrollTop = list.scrollHeight;
  };
  const drawStream = h2oThrottle(() => {
    const messages = model.get("messages") || [];
    const msg = messages[stream.index];
    const old = list.querySelector(`.h2o-msg[data-index="${stream.index}"]`);
    if (!msg || !old) return drawMessages();
    const stick = nearBottom();
    old.replaceWith(h2oMessageView(msg, stream.index, stream.text));
    if (stick) list.scrollTop = list.scrollHeight;
  });
  const drawToolbar = () => {
    const rows = model.get("models") || [];
    const def = model.get("default_model");
    h2oFillSelect(
      modelSelect,
      [["", def ? `default (${def})` : "default model"], ...rows.map((r) => [r.alias, r.alias])],
      model.get("model") || "",
    );
    h2oFillSelect(modeSelect, model.get("modes") || ["ChatLLM", "LLM"], model.get("mode"));
    const count = model.get("token_count");
    tokens.textContent = count >= 0 ? `${count} tokens` : "";
    title.textContent = model.get("chat_name") || "";
  };
  const drawBusy = () => {
    const busy = Boolean(model.get("busy"));
    sendBtn.hidden = busy;
    stopBtn.hidden = !busy;
    for (const b of [regenBtn, undoBtn, clearBtn]) b.disabled = busy;
  };
  const onMessage = (msg) => {
    if (!msg) return;
    if (msg.type === "delta") {
      if (stream.index !== msg.index) stream = { index: msg.index, text: "" };
      stream.text += msg.text;
      drawStream();
    } else if (msg.type === "restore_input") {
      if (!input.value) input.value = msg.text;
    } else if (msg.type === "download") {
      h2oDownload(msg.filename, msg.text, msg.mime);
    }
  };
  const onMessages = () => {
    const messages = model.get("messages") || [];
    if (!messages.some((m) => m.streaming)) stream = { index: -1, text: "" };
    drawMessages();
  };

  const events = [
    ["change:messages", onMessages],
    ["change:busy", drawBusy],
    ["change:models", drawToolbar],
    ["change:default_model", drawToolbar],
    ["change:model", drawToolbar],
    ["change:modes", drawToolbar],
    ["change:mode", drawToolbar],
    ["change:token_count", drawToolbar],
    ["change:chat_name", () => { drawToolbar(); drawSaved(); }],
    ["change:saved", drawSaved],
    ["msg:custom", onMessage],
  ];
  for (const [event, fn] of events) model.on(event, fn);

  el.replaceChildren(
    h2oEl(
      "div",
      { class: "h2o-panel h2o-chat" },
      h2oEl("div", { class: "h2o-toolbar" },
        h2oEl("label", {}, "Model ", modelSelect),
        h2oEl("label", {}, "Mode ", modeSelect),
        tokens, h2oEl("span", { class: "h2o-grow" }), title, chatsBtn, expertBtn),
      errors,
      settings,
      h2oEl("div", { class: "h2o-body" }, list, saved),
      h2oEl("div", { class: "h2o-compose" }, input,
        h2oEl("div", { class: "h2o-row" }, sendBtn, stopBtn, regenBtn, undoBtn, clearBtn)),
      status,
    ),
  );
  drawToolbar();
  drawSaved();
  drawBusy();
  drawMessages();
  return () => {
    dropKeys();
    events.forEach(([event, fn]) => model.off(event, fn));
    dropErrors();
    dropStatus();
    dropSettings();
  };
}

export default { render };
