/**
 * What each cell command asks the model: the cell's code, and its error or output where the
 * command is about them, in fences the model knows, with one plain instruction.
 *
 * Kept apart from the commands so that each prompt is a pure function of what the notebook
 * holds, unit-tested without a browser. Long sources and outputs are cut (their ends kept,
 * where errors and results are) so a prompt always fits a small model's window.
 */

export const MAX_CODE_CHARS = 6000;
export const MAX_OUTPUT_CHARS = 3000;

/** What a command knows about the cell it works on. */
export interface ICellContext {
  source: string;
  language: string;
  /** The cell's outputs as text (streams, results), if any. */
  output?: string;
  /** The error the cell raised, if any. */
  error?: { ename: string; evalue: string; traceback: string[] };
  /** The text selected in the editor, if any. */
  selection?: string;
}

/** A prompt to send, and the short label the chat shows for it. */
export interface IPrompt {
  label: string;
  text: string;
}

/** Terminal colour codes, which IPython puts in tracebacks. */
const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;

export function plain(text: string): string {
  return text.replace(ANSI, '');
}

/** `text` cut to `limit` characters, keeping its start and end with a mark between. */
export function clip(text: string, limit: number): string {
  if (text.length <= limit) {
    return text;
  }
  const head = Math.floor(limit * 0.4);
  const tail = limit - head;
  return `${text.slice(0, head)}\n… (${text.length - limit} characters cut) …\n${text.slice(-tail)}`;
}

function fence(text: string, language = ''): string {
  const longest = Math.max(2, ...(text.match(/`{3,}/g) || []).map(run => run.length));
  const marks = '`'.repeat(longest + 1);
  return `${marks}${language}\n${text.replace(/\n+$/, '')}\n${marks}`;
}

function code(cell: ICellContext): string {
  return fence(clip(cell.source, MAX_CODE_CHARS), cell.language);
}

export function explainCell(cell: ICellContext): IPrompt {
  return {
    label: 'Explain this cell',
    text: `Explain what this ${cell.language} code does, step by step:\n\n${code(cell)}`
  };
}

export function fixError(cell: ICellContext): IPrompt {
  if (!cell.error) {
    throw new Error('this cell has no error to fix: run it first');
  }
  const trace = clip(plain(cell.error.traceback.join('\n')), MAX_OUTPUT_CHARS);
  return {
    label: `Fix ${cell.error.ename}`,
    text:
      `This ${cell.language} code raised an error.\n\n${code(cell)}\n\n` +
      `The error:\n\n${fence(trace || `${cell.error.ename}: ${cell.error.evalue}`)}\n\n` +
      'Explain the cause in one or two sentences, then give the corrected code in one code block.'
  };
}

export function explainOutput(cell: ICellContext): IPrompt {
  const output = (cell.output || '').trim();
  if (!output) {
    throw new Error('this cell has no output to explain: run it first');
  }
  return {
    label: 'Explain this output',
    text:
      `This ${cell.language} code:\n\n${code(cell)}\n\n` +
      `printed this output:\n\n${fence(clip(plain(output), MAX_OUTPUT_CHARS))}\n\n` +
      'Explain what the output shows.'
  };
}

export function askSelection(cell: ICellContext, question: string): IPrompt {
  const selection = (cell.selection || '').trim();
  if (!selection) {
    throw new Error('select some code in the cell first');
  }
  const ask = question.trim() || 'Explain this code.';
  return {
    label: ask,
    text: `${fence(clip(selection, MAX_CODE_CHARS), cell.language)}\n\n${ask}`
  };
}

export function generateCell(cell: ICellContext): IPrompt {
  const wish = cell.source.trim();
  if (!wish) {
    throw new Error('write what the code should do in the cell (a comment is fine), then run this');
  }
  return {
    label: 'Generate a cell',
    text:
      `Write ${cell.language} code for a notebook cell that does this:\n\n${clip(wish, MAX_CODE_CHARS)}\n\n` +
      'Answer with the code in one code block.'
  };
}

export function optimizeCell(cell: ICellContext): IPrompt {
  return {
    label: 'Optimize this cell',
    text:
      `Make this ${cell.language} code faster and simpler without changing what it does, ` +
      `and say what you changed. Give the new code in one code block.\n\n${code(cell)}`
  };
}

export function documentCell(cell: ICellContext): IPrompt {
  return {
    label: 'Document this cell',
    text:
      `Add docstrings and short comments to this ${cell.language} code, changing nothing else. ` +
      `Give the documented code in one code block.\n\n${code(cell)}`
  };
}

/** The code of the first fenced block of `markdown` (to its end if never closed), or null. */
export function firstCodeBlock(markdown: string): string | null {
  const open = /^ {0,3}(`{3,}|~{3,})[^\n`]*\n/m.exec(markdown);
  if (!open) {
    return null;
  }
  const rest = markdown.slice(open.index + open[0].length);
  const mark = open[1][0] === '`' ? '`' : '~';
  const close = new RegExp(`^ {0,3}${mark}{${open[1].length},}[ \\t]*$`, 'm').exec(rest);
  return (close ? rest.slice(0, close.index) : rest).replace(/\n$/, '');
}
