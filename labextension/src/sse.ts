/**
 * Server-sent events from an OpenAI-compatible server, read off a fetch body.
 *
 * Why not `EventSource`: it only sends GET, and a chat completion is a POST with a JSON body.
 * So the stream is parsed here, to the letter of the HTML spec's event-stream format: lines
 * end in LF, CRLF or CR, which may be split across network chunks like any other byte; an
 * event is its `data:` lines joined by newlines, dispatched at a blank line; comments and
 * other fields are skipped. The OpenAI layer on top turns `data: [DONE]` into the end and a
 * `data: {"error": ...}` event (how our server reports a failure after the stream started)
 * into a thrown {@link StreamError}.
 *
 * Nothing here touches JupyterLab, so it runs under `node --test` as it runs in the browser.
 */

/** An error the server reported, in the stream or as the response. */
export class StreamError extends Error {
  constructor(
    message: string,
    readonly status: number = 0,
    readonly code: string = ''
  ) {
    super(message);
    this.name = 'StreamError';
  }
}

/** The `data` of each event in `body`, in order, as the bytes arrive. */
export async function* sseData(
  body: ReadableStream<Uint8Array>
): AsyncGenerator<string, void, undefined> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let data: string[] = [];
  let pendingCR = false; // a CR at a chunk's end: a LF may follow in the next chunk
  const lines = function* (text: string): Generator<string> {
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const ch = text[i];
      if (ch === '\n' || ch === '\r') {
        yield text.slice(start, i);
        if (ch === '\r' && text[i + 1] === '\n') {
          i++;
        }
        start = i + 1;
      }
    }
    buffer = text.slice(start);
  };
  const field = (line: string): string | null => {
    if (line === '') {
      const event = data.length ? data.join('\n') : null;
      data = [];
      return event;
    }
    if (line.startsWith(':')) {
      return null; // a comment (keep-alive)
    }
    const colon = line.indexOf(':');
    const name = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) {
      value = value.slice(1);
    }
    if (name === 'data') {
      data.push(value);
    }
    return null;
  };
  try {
    for (;;) {
      const { done, value } = await reader.read();
      let text = buffer + (done ? decoder.decode() : decoder.decode(value, { stream: true }));
      if (pendingCR && text.startsWith('\n')) {
        text = text.slice(1); // the LF of a CRLF split across chunks
      }
      pendingCR = text.endsWith('\r');
      for (const line of lines(text)) {
        const event = field(line);
        if (event !== null) {
          yield event;
        }
      }
      if (done) {
        if (buffer) {
          field(buffer); // a last line with no end of line
        }
        const event = field('');
        if (event !== null) {
          yield event; // a stream that ended without its blank line
        }
        return;
      }
    }
  } finally {
    reader.releaseLock();
  }
}

/** A document chunk an answer was given (h2oGPT's extra on the stream's last chunk). */
export interface ISource {
  source: string;
  page: number | null;
  score: number | null;
  text?: string;
}

/** What one chunk of a chat completion stream adds. */
export interface IChatDelta {
  text: string;
  finishReason: string | null;
  model?: string;
  usage?: { prompt_tokens: number; completion_tokens: number };
  sources?: ISource[];
}

/** The JSON chunks of an OpenAI stream, ending at `[DONE]`; an `error` chunk throws. */
async function* openaiChunks(
  body: ReadableStream<Uint8Array>
): AsyncGenerator<any, void, undefined> {
  for await (const data of sseData(body)) {
    if (data === '[DONE]') {
      return;
    }
    let chunk: any;
    try {
      chunk = JSON.parse(data);
    } catch {
      throw new StreamError(`the server sent something that is not JSON: ${data.slice(0, 80)}`);
    }
    if (chunk && chunk.error) {
      const error = chunk.error;
      throw new StreamError(String(error.message || error), 0, String(error.code || ''));
    }
    yield chunk;
  }
}

/** The text deltas of an OpenAI chat-completion stream, ending at `[DONE]`. */
export async function* chatDeltas(
  body: ReadableStream<Uint8Array>
): AsyncGenerator<IChatDelta, void, undefined> {
  for await (const chunk of openaiChunks(body)) {
    const choice = (chunk.choices || [])[0];
    if (!choice) {
      if (chunk.usage) {
        yield { text: '', finishReason: null, usage: chunk.usage, model: chunk.model };
      }
      continue;
    }
    const delta = choice.delta || {};
    yield {
      text: typeof delta.content === 'string' ? delta.content : '',
      finishReason: choice.finish_reason ?? null,
      model: chunk.model,
      ...(chunk.usage ? { usage: chunk.usage } : {}),
      ...(Array.isArray(chunk.sources) ? { sources: chunk.sources } : {})
    };
  }
}

/** The text deltas of an OpenAI (legacy) completion stream: `choices[0].text`. */
export async function* completionDeltas(
  body: ReadableStream<Uint8Array>
): AsyncGenerator<string, void, undefined> {
  for await (const chunk of openaiChunks(body)) {
    const text = (chunk.choices || [])[0]?.text;
    if (typeof text === 'string' && text) {
      yield text;
    }
  }
}

/** The one line to show for an error response (OpenAI's `{"error": {"message"}}` or text). */
export async function responseError(response: Response): Promise<StreamError> {
  const text = await response.text().catch(() => '');
  let message = text.trim().slice(0, 300) || response.statusText || 'no answer';
  let code = '';
  try {
    const error = JSON.parse(text).error;
    if (error) {
      message = String(error.message || message);
      code = String(error.code || '');
    }
  } catch {
    // not JSON: a proxy's page; its first words are the message
  }
  return new StreamError(message, response.status, code);
}
