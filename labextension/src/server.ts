/**
 * The user's h2oGPT server, as the lab reaches it: by default the one Jupyter runs at
 * `<base_url>/h2ogpt/` (jupyter-server-proxy starts it on the first request; the package's
 * Jupyter server extension streams every POST), or any OpenAI-compatible URL from the
 * settings.
 *
 * Requests to Jupyter's own address go through `ServerConnection.makeRequest`, which adds the
 * token and XSRF headers Jupyter wants; another address gets a plain `fetch`. `/status` says
 * `loading` while the model loads, which is a state to show, not an error.
 */

import { PageConfig, URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { IChatDelta, StreamError, chatDeltas, responseError } from './sse';

/** Where the server is: its OpenAI base URL (ending in `/v1`). */
export function apiBase(configured: string): string {
  const url = configured.trim().replace(/\/+$/, '');
  if (url) {
    return url;
  }
  return URLExt.join(PageConfig.getBaseUrl(), 'h2ogpt', 'v1');
}

/** The server's state, as the sidebar and the status bar show it. */
export type ServerState =
  | { kind: 'ready'; models: string[] }
  | { kind: 'loading'; message: string }
  | { kind: 'unreachable'; message: string };

export interface IChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface IChatRequest {
  model?: string;
  messages: IChatMessage[];
  temperature?: number;
  max_tokens?: number;
  /** h2oGPT: answer from this document collection. */
  collection?: string;
}

/** One OpenAI-compatible server. */
export class H2OGPTServer {
  constructor(readonly base: string) {}

  private get ownJupyter(): boolean {
    const jupyter = PageConfig.getBaseUrl();
    return this.base.startsWith(jupyter) || !/^[a-z]+:\/\//i.test(this.base);
  }

  /** A request to `path` under the base URL, authenticated as Jupyter wants when it is ours. */
  async request(path: string, init: RequestInit = {}): Promise<Response> {
    const url = `${this.base}/${path.replace(/^\/+/, '')}`;
    if (this.ownJupyter) {
      return ServerConnection.makeRequest(url, init, ServerConnection.makeSettings());
    }
    return fetch(url, init);
  }

  /** Ready (with its models), still loading, or not there; never throws. Asks `/status`,
   * which answers 200 in every state (a 503 would be a console error in every browser);
   * a server without it (another OpenAI-compatible one) is asked for its models. */
  async state(): Promise<ServerState> {
    const url = this.base.replace(/\/v1$/, '') + '/status';
    let response: Response;
    try {
      response = this.ownJupyter
        ? await ServerConnection.makeRequest(url, {}, ServerConnection.makeSettings())
        : await fetch(url);
    } catch (error) {
      return { kind: 'unreachable', message: `cannot reach ${this.base}: ${error}` };
    }
    if (response.status === 404 && !this.ownJupyter) {
      return this.modelsState();
    }
    if (!response.ok) {
      const error = await responseError(response);
      return { kind: 'unreachable', message: `${response.status}: ${error.message}` };
    }
    const body = await response.json().catch(() => ({}));
    if (body.state === 'ready') {
      return { kind: 'ready', models: Array.isArray(body.models) ? body.models : [] };
    }
    if (body.state === 'loading') {
      return { kind: 'loading', message: body.loading ? String(body.loading) : 'starting' };
    }
    return { kind: 'unreachable', message: String(body.error || 'the server is in no known state') };
  }

  /** Until the server is ready (polling `/status`); throws when it cannot be reached or
   * `signal` aborts. The first request to Jupyter's route starts the server. */
  async untilReady(signal: AbortSignal, pollMs = 1000): Promise<string[]> {
    for (;;) {
      const state = await this.state();
      if (state.kind === 'ready') {
        return state.models;
      }
      if (state.kind === 'unreachable') {
        throw new StreamError(`the h2oGPT server is not reachable: ${state.message}`);
      }
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, pollMs);
        signal.addEventListener('abort', () => {
          clearTimeout(timer);
          reject(new DOMException('stopped', 'AbortError'));
        });
      });
    }
  }

  private async modelsState(): Promise<ServerState> {
    try {
      return { kind: 'ready', models: await this.models() };
    } catch (error) {
      return { kind: 'unreachable', message: String((error as Error).message || error) };
    }
  }

  /** The models the server serves, its default first. */
  async models(): Promise<string[]> {
    const response = await this.request('models');
    if (!response.ok) {
      throw await responseError(response);
    }
    const body = await response.json();
    return (body.data || []).map((m: { id: string }) => String(m.id));
  }

  /** The document collections on the server's machine (h2oGPT's extra route). */
  async collections(): Promise<string[]> {
    const response = await this.request('collections');
    if (!response.ok) {
      return []; // another OpenAI-compatible server: no documents
    }
    const body = await response.json().catch(() => ({}));
    return (body.data || []).map((c: { id: string }) => String(c.id));
  }

  /** Stream a chat completion; `signal` aborts it (the server then cancels the generation). */
  async *chat(
    request: IChatRequest,
    signal?: AbortSignal
  ): AsyncGenerator<IChatDelta, void, undefined> {
    const response = await this.request('chat/completions', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'text/event-stream' },
      body: JSON.stringify({ ...request, stream: true }),
      signal
    });
    if (!response.ok) {
      throw await responseError(response);
    }
    if (!response.body) {
      throw new StreamError('the server answered without a body');
    }
    yield* chatDeltas(response.body);
  }
}

/** The path under the Jupyter root of the file `source` (an absolute path, as the h2oGPT
 * server cites it), from the package's Jupyter server extension; throws a one-line error when
 * JupyterLab cannot open it. */
export async function locate(source: string): Promise<string> {
  if (/^[a-z]+:/i.test(source) && !source.startsWith('/')) {
    throw new StreamError(`${source} is not a file JupyterLab can open`);
  }
  const url =
    URLExt.join(PageConfig.getBaseUrl(), 'h2ogpt-jupyter', 'locate') +
    URLExt.objectToQueryString({ path: source });
  const response = await ServerConnection.makeRequest(url, {}, ServerConnection.makeSettings());
  if (response.status === 404) {
    throw new StreamError(`${source} is not under the Jupyter root, so JupyterLab cannot open it`);
  }
  if (!response.ok) {
    throw await responseError(response);
  }
  return String((await response.json()).path);
}
