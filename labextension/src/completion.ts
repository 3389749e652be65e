/**
 * Inline completion (ghost text) from the h2oGPT server, through JupyterLab 4's inline
 * completer: `fetch` answers at once with an empty, incomplete item and `stream` fills it as
 * `/v1/completions` streams, so text appears token by token.
 *
 * A model on a CPU takes a while, so by default it runs only when asked (Alt+\, JupyterLab's
 * "invoke inline completer"); the `inlineCompletion` setting makes it automatic, where
 * JupyterLab's own debounce applies. A new request, or the completer dropping the suggestion,
 * aborts the one before, and the server stops generating it. The prompt is the code before the
 * cursor (prefix only: fill-in-the-middle needs a model trained for it).
 */

import {
  CompletionHandler,
  IInlineCompletionContext,
  IInlineCompletionItem,
  IInlineCompletionList,
  IInlineCompletionProvider,
  InlineCompletionTriggerKind
} from '@jupyterlab/completer';

import { H2OGPTServer } from './server';
import { completionDeltas, responseError } from './sse';

export const MAX_PREFIX_CHARS = 4000;

export interface ICompletionSettings {
  inlineCompletion: 'manual' | 'automatic' | 'off';
  model: string;
  completionTokens: number;
}

export class H2OGPTInlineProvider implements IInlineCompletionProvider {
  readonly name = 'h2oGPT';
  readonly identifier = 'h2ogpt-jupyterlab:inline';
  private running: AbortController | null = null;
  private readonly pending = new Map<string, { prefix: string; signal: AbortSignal }>();
  private counter = 0;

  constructor(
    private readonly server: () => H2OGPTServer,
    private readonly settings: () => ICompletionSettings
  ) {}

  async fetch(
    request: CompletionHandler.IRequest,
    context: IInlineCompletionContext
  ): Promise<IInlineCompletionList<IInlineCompletionItem>> {
    const mode = this.settings().inlineCompletion;
    const automatic = context.triggerKind === InlineCompletionTriggerKind.Automatic;
    if (mode === 'off' || (automatic && mode !== 'automatic')) {
      return { items: [] };
    }
    const prefix = request.text.slice(Math.max(0, request.offset - MAX_PREFIX_CHARS), request.offset);
    if (!prefix.trim()) {
      return { items: [] };
    }
    this.running?.abort(); // one completion at a time: the newest wins
    const controller = new AbortController();
    this.running = controller;
    const token = `h2ogpt-${++this.counter}`;
    this.pending.set(token, { prefix, signal: controller.signal });
    return { items: [{ insertText: '', isIncomplete: true, token }] };
  }

  async *stream(token: string): AsyncGenerator<{ response: IInlineCompletionItem }> {
    const job = this.pending.get(token);
    this.pending.delete(token);
    if (!job) {
      return;
    }
    const settings = this.settings();
    let text = '';
    try {
      await this.server().untilReady(job.signal); // the first completion may start the server
      const response = await this.server().request('completions', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'text/event-stream' },
        body: JSON.stringify({
          ...(settings.model ? { model: settings.model } : {}),
          prompt: job.prefix,
          max_tokens: settings.completionTokens,
          temperature: 0,
          stream: true,
          stop: ['\n\n\n']
        }),
        signal: job.signal
      });
      if (!response.ok) {
        throw await responseError(response);
      }
      if (!response.body) {
        return;
      }
      for await (const delta of completionDeltas(response.body)) {
        text += delta;
        yield { response: { insertText: text, isIncomplete: true, token } };
      }
      yield { response: { insertText: text.replace(/\s+$/, ''), isIncomplete: false, token } };
    } catch (error) {
      if (job.signal.aborted) {
        return;
      }
      const message = String((error as Error).message || error);
      yield { response: { insertText: text, isIncomplete: false, token, error: { message } } };
    } finally {
      if (this.running?.signal === job.signal) {
        this.running = null;
      }
    }
  }
}
