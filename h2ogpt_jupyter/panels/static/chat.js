// @ts-check
// The chat panel. Python owns the conversation: `messages` is synced state, answers stream in
// as {type: "delta", index, text} messages and the finished turn is committed to `messages`.
// Actions go to Python as {type: ...} messages (send, stop, regenerate, undo, clear, save,
// new, open, delete, export, load_file, refresh, refresh_modes).

/**
 * A turn's half in `messages` (`ChatPanel._history_messages`); the answer being generated is
 * `streaming` until its turn is committed.
 * @typedef {{role: "user" | "assistant", content: string, streaming?: boolean,
 *   sources?: H2oSource[], stats?: string, finish_reason?: string}} ChatMessage
 */
/** @typedef {{name: string, modified: string, turns?: number, error?: string}} SavedChat */
/**
 * @typedef {H2oSettingsState & {messages: ChatMessage[], mode: string, modes: string[],
 *   model: string, chat_name: string, saved: SavedChat[], token_count: number}} ChatState
 */
/**
 * What Python sends the chat (`Panel.emit`).
 * @typedef {{type: "delta", index: number, text: string}
 *   | {type: "done", index: number, finish_reason: string}
 *   | {type: "restore_input", text: string}
 *   | {type: "download", filename: string, text: string, mime: string}
 *   | {type: "redraw_settings"}} ChatIncoming
 */
/** @typedef {H2oModel<ChatState, ChatIncoming>} ChatModel */

// --- the answer streaming in: plain state, drawn by render() ----------------------------

/**
 * The answer streaming now: its index in `messages` and the text its deltas brought so far.
 * @typedef {{readonly index: number, readonly text: string}} ChatStream
 */
/** @type {ChatStream} */
const H2O_NO_STREAM = Object.freeze({ index: -1, text: "" });

/**
 * The stream after a message from Python: a delta adds to its turn's text (a delta for
 * another turn starts that one afresh); other messages leave the stream as it is.
 * @param {ChatStream} stream
 * @param {ChatIncoming} msg
 * @returns {ChatStream}
 */
function h2oChatStreamed(stream, msg) {
  if (msg.type !== "delta") return stream;
  const before = stream.index === msg.index ? stream.text : "";
  return { index: msg.index, text: before + msg.text };
}

/**
 * The stream once `messages` changed: it ends when no answer streams any more (the turn was
 * committed with its whole text, or it failed and the history came back without it).
 * @param {ChatStream} stream
 * @param {ChatMessage[]} messages
 * @returns {ChatStream}
 */
function h2oChatSettled(stream, messages) {
  return messages.some((m) => m.streaming) ? stream : H2O_NO_STREAM;
}

/**
 * What a message shows: its text with what streamed in so far, whether the typing mark is up
 * (an answer with no text yet), and the badge of an answer that did not end by itself
 * ("cancelled", "length", ...).
 * @param {ChatMessage} msg
 * @param {string} streamText
 * @returns {{text: string, typing: boolean, badge: string}}
 */
function h2oTurnShown(msg, streamText) {
  return {
    text: (msg.content || "") + (streamText || ""),
    typing: Boolean(msg.streaming && !streamText),
    badge: msg.finish_reason && msg.finish_reason !== "stop" ? msg.finish_reason : "",
  };
}

/**
 * @param {ChatMessage} msg
 * @param {number} index
 * @param {string} streamText text streamed for it so far
 */
function h2oMessageView(msg, index, streamText) {
  const user = msg.role === "user";
  const body = h2oEl("div", { class: "h2o-msg-body" });
  const shown = h2oTurnShown(msg, streamText);
  if (user) body.textContent = shown.text;
  else h2oSetMarkdown(body, shown.text);
  if (shown.typing) body.append(h2oEl("span", { class: "h2o-typing" }, "…"));
  return h2oEl(
    "div",
    { class: `h2o-msg ${user ? "h2o-user" : "h2o-bot"}`, "data-index": index },
    h2oEl("div", { class: "h2o-msg-role" }, user ? "You" : "Assistant",
      shown.badge ? h2oEl("span", { class: "h2o-badge" }, shown.badge) : null),
    body,
    user ? null : h2oSourcesView(msg.sources),
    msg.stats ? h2oEl("div", { class: "h2o-msg-stats" }, msg.stats) : null,
  );
}

/**
 * The saved-chats side bar and its draw function.
 * @param {ChatModel} model
 * @returns {[HTMLElement, () => void]}
 */
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

/**
 * @param {{model: ChatModel, el: HTMLElement}} args
 * @returns {H2oCleanup}
 */
function render({ model: widget, el }) {
  const dropKeys = h2oOwnKeys(el);
  const [model, dropGone] = h2oWhenKernelGone(widget, el);
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
  /** @type {(node: HTMLElement, button: HTMLElement) => () => void} */
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

  let stream = H2O_NO_STREAM;
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
    if (!msg || !old) {
      drawMessages();
      return;
    }
    const stick = nearBottom();
    old.replaceWith(h2oMessageView(msg, stream.index, stream.text));
    if (stick) list.scrollTop = list.scrollHeight;
  });
  const drawToolbar = () => {
    const rows = model.get("models") || [];
    const def = model.get("default_model");
    h2oFillSelect(
      modelSelect,
      [["", def ? `default (${def})` : "default model"], ...rows.map((r) => r.alias)],
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
  /** @param {ChatIncoming} msg */
  const onMessage = (msg) => {
    if (!msg) return;
    if (msg.type === "delta") {
      stream = h2oChatStreamed(stream, msg);
      drawStream();
    } else if (msg.type === "restore_input") {
      if (!input.value) input.value = msg.text;
    } else if (msg.type === "download") {
      h2oDownload(msg.filename, msg.text, msg.mime);
    }
  };
  const onMessages = () => {
    stream = h2oChatSettled(stream, model.get("messages") || []);
    drawMessages();
  };

  /** @type {H2oSubscription<ChatState, ChatIncoming>[]} */
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
    dropGone();
    events.forEach(([event, fn]) => model.off(event, fn));
    dropErrors();
    dropStatus();
    dropSettings();
  };
}

export default { render };
