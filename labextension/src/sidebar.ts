/**
 * The chat sidebar: a conversation with the user's h2oGPT server, no kernel needed.
 *
 * A small panel of our own rather than `@jupyter/chat`: that package is built for jupyter-ai's
 * collaborative chats (a shared document per chat, personas on the server side, React and MUI
 * in the bundle), while this sidebar talks straight to an OpenAI-compatible stream and must
 * show its text as fast as it comes. Answers are rendered by JupyterLab's own markdown
 * renderer (sanitized, themed, code highlighted), at most every {@link RENDER_MS} while they
 * stream, so a fast model never makes the page redraw per token.
 */

import { Clipboard } from '@jupyterlab/apputils';
import { IRenderMimeRegistry, MimeModel } from '@jupyterlab/rendermime';
import { ISignal, Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';

import { H2OGPTServer, IChatMessage, ServerState } from './server';
import { ISource } from './sse';

export const RENDER_MS = 80;
const POLL_MS = 1500;

/** What the sidebar reads from the settings at each turn. */
export interface IChatSettings {
  model: string;
  temperature: number;
  maxTokens: number;
  systemPrompt: string;
}

/** Where a code block of an answer can go: the notebook, when one is open. */
export interface ICodeTarget {
  insertBelow(code: string): void;
  replaceActive(code: string): void;
}

export interface IChatSidebarOptions {
  server: () => H2OGPTServer;
  settings: () => IChatSettings;
  rendermime?: IRenderMimeRegistry | null;
  code?: ICodeTarget | null;
  /** One line for an error a user can act on (a notification). */
  report?: (message: string) => void;
  /** Open a cited document in the front end (a PDF at `page`). */
  openSource?: (source: ISource) => Promise<void>;
}

export const NO_DOCUMENTS = '';

/** What the status bar shows: the server's state, the model, the last answer's speed. */
export interface IChatStatus {
  state: 'starting' | 'loading' | 'ready' | 'generating' | 'error';
  model: string;
  detail: string;
  tokensPerSecond: number;
}

export interface ITurn {
  question: string;
  label: string;
  answer: string;
  finish: string;
  node: HTMLElement;
  sources: ISource[];
}

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    node.setAttribute(key, value);
  }
  node.append(...children);
  return node;
}

export class ChatSidebar extends Widget {
  private readonly options: IChatSidebarOptions;
  private readonly statusLine = el('div', { class: 'h2o-lab-status', role: 'status' });
  private readonly picker = el('select', { class: 'h2o-lab-model', title: 'Model' });
  private readonly documents = el('select', {
    class: 'h2o-lab-collection',
    title: 'Answer from a document collection'
  });
  private readonly list = el('div', { class: 'h2o-lab-messages' });
  private readonly input = el('textarea', {
    class: 'h2o-lab-input',
    rows: '3',
    placeholder: 'Ask the local model (Enter to send, Shift+Enter for a new line)'
  });
  private readonly sendButton = el('button', { class: 'h2o-lab-send jp-mod-styled' }, 'Send');
  private readonly stopButton = el('button', { class: 'h2o-lab-stop jp-mod-styled' }, 'Stop');
  private readonly regenerateButton = el('button', { class: 'jp-mod-styled' }, 'Regenerate');
  private readonly newButton = el('button', { class: 'jp-mod-styled', title: 'New chat' }, 'New');
  private turns: ITurn[] = [];
  private running: AbortController | null = null;
  private polling = 0;
  private lastState: ServerState | null = null;
  private readonly changed = new Signal<this, IChatStatus>(this);
  private current: IChatStatus = { state: 'starting', model: '', detail: '', tokensPerSecond: 0 };

  constructor(options: IChatSidebarOptions) {
    super();
    this.options = options;
    this.id = 'h2ogpt-chat';
    this.addClass('h2o-lab-chat');
    this.title.caption = 'h2oGPT chat';
    this.node.append(
      el('div', { class: 'h2o-lab-toolbar' }, el('strong', {}, 'h2oGPT'), this.picker, this.newButton),
      el('div', { class: 'h2o-lab-toolbar h2o-lab-docs' }, el('span', {}, 'Documents'), this.documents),
      this.statusLine,
      this.list,
      el(
        'div',
        { class: 'h2o-lab-compose' },
        this.input,
        el('div', { class: 'h2o-lab-row' }, this.sendButton, this.stopButton, this.regenerateButton)
      )
    );
    this.sendButton.addEventListener('click', () => void this.send());
    this.stopButton.addEventListener('click', () => this.stop());
    this.regenerateButton.addEventListener('click', () => void this.regenerate());
    this.newButton.addEventListener('click', () => this.clear());
    this.input.addEventListener('keydown', event => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        void this.send();
      }
    });
    this.drawButtons();
    this.list.append(this.emptyNote());
  }

  /** The server's state and the last answer's speed, whenever either changes. */
  get statusChanged(): ISignal<this, IChatStatus> {
    return this.changed;
  }

  get status(): IChatStatus {
    return this.current;
  }

  private tell(update: Partial<IChatStatus>): void {
    this.current = { ...this.current, model: this.picker.value || this.current.model, ...update };
    this.changed.emit(this.current);
  }

  /** The question box, for commands that fill it. */
  get prompt(): HTMLTextAreaElement {
    return this.input;
  }

  protected onAfterAttach(): void {
    void this.refresh();
  }

  protected onBeforeDetach(): void {
    window.clearTimeout(this.polling);
  }

  /** Ask the server how it is; while its model loads, ask again shortly. */
  async refresh(): Promise<ServerState> {
    window.clearTimeout(this.polling);
    const state = await this.options.server().state();
    this.lastState = state;
    if (state.kind === 'ready') {
      this.showStatus(state.models.length ? '' : 'The server serves no model.');
      this.fillPicker(state.models);
      void this.fillCollections();
      this.tell({ state: 'ready', detail: '' });
    } else if (state.kind === 'loading') {
      this.showStatus(`Loading the model… (${state.message})`);
      this.polling = window.setTimeout(() => void this.refresh(), POLL_MS);
      this.tell({ state: 'loading', model: state.message, detail: state.message });
    } else {
      this.showStatus(`The h2oGPT server is not reachable: ${state.message}`, true);
      this.tell({ state: 'error', detail: state.message });
    }
    this.drawButtons();
    return state;
  }

  /** Until the server is ready (a question asked while the model loads waits, rather than
   * failing); throws if it cannot be reached or `signal` aborts. */
  private async untilReady(signal: AbortSignal): Promise<void> {
    for (;;) {
      const state = await this.refresh();
      if (state.kind === 'ready') {
        return;
      }
      if (state.kind === 'unreachable') {
        throw new Error(`the h2oGPT server is not reachable: ${state.message}`);
      }
      await new Promise<void>((resolve, reject) => {
        const timer = window.setTimeout(resolve, POLL_MS);
        signal.addEventListener('abort', () => {
          window.clearTimeout(timer);
          reject(new DOMException('stopped', 'AbortError'));
        });
      });
      if (signal.aborted) {
        throw new DOMException('stopped', 'AbortError');
      }
    }
  }

  /** Send the question in the box (or `text`, shown as `label` if given) and stream the
   * answer; resolves to the finished turn (null when nothing was sent). */
  async send(text?: string, label = ''): Promise<ITurn | null> {
    const question = (text ?? this.input.value).trim();
    if (!question || this.running) {
      return null;
    }
    if (text === undefined) {
      this.input.value = '';
    }
    const node = el('div', { class: 'h2o-lab-turn' });
    const turn: ITurn = { question, label, answer: '', finish: '', node, sources: [] };
    this.turns.push(turn);
    this.list.querySelector('.h2o-lab-empty')?.remove();
    this.list.append(node);
    node.scrollIntoView({ block: 'end' });
    await this.answer(turn);
    return turn;
  }

  /** Whether an answer is streaming now. */
  get busy(): boolean {
    return this.running !== null;
  }

  /** Stop the answer being streamed: the request is aborted, the server cancels it. */
  stop(): void {
    this.running?.abort();
  }

  /** Answer the last question again. */
  async regenerate(): Promise<void> {
    const last = this.turns[this.turns.length - 1];
    if (!last || this.running) {
      return;
    }
    last.answer = '';
    last.finish = '';
    await this.answer(last);
  }

  /** Start a new chat. */
  clear(): void {
    this.stop();
    this.turns = [];
    this.list.replaceChildren(this.emptyNote());
  }

  private emptyNote(): HTMLElement {
    return el('div', { class: 'h2o-lab-empty' }, 'Ask anything. Answers are generated by your own h2oGPT server.');
  }

  private messages(upTo: ITurn): IChatMessage[] {
    const settings = this.options.settings();
    const messages: IChatMessage[] = [];
    if (settings.systemPrompt.trim()) {
      messages.push({ role: 'system', content: settings.systemPrompt });
    }
    for (const turn of this.turns) {
      messages.push({ role: 'user', content: turn.question });
      if (turn === upTo) {
        break;
      }
      messages.push({ role: 'assistant', content: turn.answer });
    }
    return messages;
  }

  private async answer(turn: ITurn): Promise<void> {
    const settings = this.options.settings();
    const controller = new AbortController();
    this.running = controller;
    this.drawButtons();
    this.tell({ state: 'generating' });
    const body = el('div', { class: 'h2o-lab-answer' });
    const meta = el('div', { class: 'h2o-lab-meta' });
    turn.node.replaceChildren(this.questionView(turn), body, meta);
    body.classList.add('h2o-lab-typing');
    const started = performance.now();
    let first = 0;
    let chunks = 0;
    let drawn = 0;
    let timer = 0;
    const draw = (): void => {
      timer = 0;
      drawn = performance.now();
      void this.render(body, turn.answer);
    };
    try {
      if (this.lastState?.kind !== 'ready') {
        meta.textContent = 'Waiting for the model to load…';
        await this.untilReady(controller.signal);
        meta.textContent = '';
      }
      const model = this.picker.value || settings.model || undefined;
      const collection = this.documents.value || undefined;
      turn.sources = [];
      const stream = this.options.server().chat(
        {
          model,
          messages: this.messages(turn),
          temperature: settings.temperature,
          max_tokens: settings.maxTokens,
          ...(collection ? { collection } : {})
        },
        controller.signal
      );
      for await (const delta of stream) {
        if (delta.text) {
          first = first || performance.now();
          chunks += 1;
          turn.answer += delta.text;
          if (!timer) {
            timer = window.setTimeout(draw, Math.max(0, RENDER_MS - (performance.now() - drawn)));
          }
        }
        turn.finish = delta.finishReason || turn.finish;
        if (delta.sources) {
          turn.sources = delta.sources;
        }
      }
    } catch (error) {
      if (controller.signal.aborted) {
        turn.finish = 'cancelled';
      } else {
        turn.finish = 'error';
        meta.classList.add('h2o-lab-error');
        meta.textContent = String((error as Error).message || error);
        if (this.lastState?.kind !== 'ready') {
          void this.refresh();
        }
      }
    } finally {
      window.clearTimeout(timer);
      body.classList.remove('h2o-lab-typing');
      await this.render(body, turn.answer);
      if (turn.finish !== 'error') {
        const seconds = (performance.now() - started) / 1000;
        const rate = first && chunks > 1 ? (chunks - 1) / ((performance.now() - first) / 1000) : 0;
        meta.textContent = [
          turn.finish === 'cancelled' ? 'stopped' : turn.finish,
          `${seconds.toFixed(1)} s`,
          rate ? `${rate.toFixed(1)} tok/s` : ''
        ]
          .filter(Boolean)
          .join(' · ');
      }
      if (turn.sources.length) {
        meta.before(this.sourcesView(turn.sources));
      }
      turn.node.dataset.finish = turn.finish;
      this.running = null;
      this.drawButtons();
      const rate = first && chunks > 1 ? (chunks - 1) / ((performance.now() - first) / 1000) : 0;
      this.tell(
        turn.finish === 'error'
          ? { state: 'error', detail: meta.textContent || '' }
          : { state: 'ready', detail: '', tokensPerSecond: rate || this.current.tokensPerSecond }
      );
    }
  }

  private async render(node: HTMLElement, text: string): Promise<void> {
    const list = this.list;
    const stick = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    const rendermime = this.options.rendermime;
    if (!rendermime) {
      node.textContent = text;
    } else {
      const renderer = rendermime.createRenderer('text/markdown');
      await renderer.renderModel(new MimeModel({ data: { 'text/markdown': text } }));
      node.replaceChildren(renderer.node);
    }
    this.decorate(node);
    if (stick) {
      list.scrollTop = list.scrollHeight; // the reader was at the end: keep up with the text
    }
  }

  private questionView(turn: ITurn): HTMLElement {
    if (!turn.label) {
      return el('div', { class: 'h2o-lab-question' }, turn.question);
    }
    const full = el('details', {}, el('summary', {}, turn.label), el('pre', {}, turn.question));
    return el('div', { class: 'h2o-lab-question h2o-lab-command' }, full);
  }

  /** Copy / Insert below / Replace cell on every code block of an answer. */
  private decorate(node: HTMLElement): void {
    for (const pre of Array.from(node.querySelectorAll('pre'))) {
      if (pre.parentElement?.classList.contains('h2o-lab-code')) {
        continue;
      }
      const code = (): string => (pre.textContent || '').replace(/\n$/, '');
      const button = (label: string, title: string, act: () => void): HTMLButtonElement => {
        const b = el('button', { class: 'h2o-lab-code-action', title }, label);
        b.addEventListener('click', () => {
          try {
            act();
          } catch (error) {
            this.options.report?.(String((error as Error).message || error));
          }
        });
        return b;
      };
      const target = this.options.code;
      const actions = el(
        'div',
        { class: 'h2o-lab-code-actions' },
        button('Copy', 'Copy the code', () => Clipboard.copyToSystem(code())),
        ...(target
          ? [
              button('Insert below', 'Insert as a new cell below the active cell', () =>
                target.insertBelow(code())
              ),
              button('Replace cell', "Replace the active cell's code", () =>
                target.replaceActive(code())
              )
            ]
          : [])
      );
      const wrap = el('div', { class: 'h2o-lab-code' });
      pre.replaceWith(wrap);
      wrap.append(actions, pre);
    }
  }

  /** The sources under an answer: score, file, page; a click opens the file. */
  private sourcesView(sources: ISource[]): HTMLElement {
    const list = el('ol', { class: 'h2o-lab-sources' });
    for (const source of sources) {
      const name = source.source.split('/').pop() || source.source;
      const score = typeof source.score === 'number' ? `${source.score.toFixed(2)} · ` : '';
      const page = source.page ? ` p.${source.page}` : '';
      const link = el('a', { href: '#', title: source.source }, name);
      link.addEventListener('click', event => {
        event.preventDefault();
        const open = this.options.openSource;
        if (open) {
          open(source).catch(error => this.options.report?.(String(error.message || error)));
        }
      });
      const item = el('li', {}, score, link, page);
      if (source.text) {
        item.append(el('details', {}, el('summary', {}, 'excerpt'), el('blockquote', {}, source.text)));
      }
      list.append(item);
    }
    return el('div', { class: 'h2o-lab-sources-box' }, el('strong', {}, 'Sources'), list);
  }

  private async fillCollections(): Promise<void> {
    const names = await this.options.server().collections();
    const chosen = this.documents.value;
    this.documents.replaceChildren(
      el('option', { value: NO_DOCUMENTS }, 'none (chat)'),
      ...names.map(name => el('option', { value: name }, name))
    );
    if (names.includes(chosen)) {
      this.documents.value = chosen;
    }
  }

  private fillPicker(models: string[]): void {
    const chosen = this.picker.value || this.options.settings().model;
    this.picker.replaceChildren(...models.map(name => el('option', { value: name }, name)));
    if (models.includes(chosen)) {
      this.picker.value = chosen;
    }
  }

  private showStatus(text: string, error = false): void {
    this.statusLine.textContent = text;
    this.statusLine.hidden = !text;
    this.statusLine.classList.toggle('h2o-lab-error', error);
  }

  private drawButtons(): void {
    const busy = this.running !== null;
    this.sendButton.disabled = busy;
    this.stopButton.disabled = !busy;
    this.regenerateButton.disabled = busy || this.turns.length === 0;
  }
}
