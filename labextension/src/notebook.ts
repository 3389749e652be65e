/**
 * What the cell commands read from the notebook and what the chat's code blocks write to it:
 * the active cell's source, selection, outputs and error; a new cell below it, or its source
 * replaced. Everything goes through the notebook tracker and the cell's shared model, as
 * JupyterLab's own actions do, so undo and collaboration see the change.
 */

import { INotebookTracker, NotebookActions } from '@jupyterlab/notebook';

import { ICellContext } from './prompts';

/** Thrown for what the user must change first (no notebook, no cell): shown as one line. */
export class NotebookError extends Error {}

function active(tracker: INotebookTracker) {
  const panel = tracker.currentWidget;
  const cell = tracker.activeCell;
  if (!panel || !cell) {
    throw new NotebookError('open a notebook and select a cell first');
  }
  return { panel, cell };
}

function language(tracker: INotebookTracker): string {
  const model = tracker.currentWidget?.model;
  const info = model?.getMetadata('language_info') as { name?: string } | undefined;
  return String(info?.name || model?.defaultKernelLanguage || 'python');
}

function outputText(outputs: any[]): { output: string; error?: ICellContext['error'] } {
  const parts: string[] = [];
  let error: ICellContext['error'];
  for (const out of outputs) {
    if (out.output_type === 'stream') {
      parts.push(Array.isArray(out.text) ? out.text.join('') : String(out.text));
    } else if (out.output_type === 'error') {
      error = { ename: String(out.ename), evalue: String(out.evalue), traceback: out.traceback || [] };
    } else if (out.data && out.data['text/plain'] !== undefined) {
      const text = out.data['text/plain'];
      parts.push(Array.isArray(text) ? text.join('') : String(text));
    }
  }
  return { output: parts.join('\n'), ...(error ? { error } : {}) };
}

/** The active cell as the prompts see it. */
export function cellContext(tracker: INotebookTracker): ICellContext {
  const { cell } = active(tracker);
  const source = cell.model.sharedModel.getSource();
  const context: ICellContext = { source, language: language(tracker) };
  if (cell.model.type === 'code') {
    const outputs = (cell.model as any).outputs?.toJSON?.() || [];
    Object.assign(context, outputText(outputs));
  }
  const editor = cell.editor;
  if (editor) {
    const range = editor.getSelection();
    const start = editor.getOffsetAt(range.start);
    const end = editor.getOffsetAt(range.end);
    if (end !== start) {
      context.selection = source.slice(Math.min(start, end), Math.max(start, end));
    }
  }
  return context;
}

/** A new code cell below the active one, holding `code`, made the active cell. */
export function insertBelow(tracker: INotebookTracker, code: string): void {
  const { panel } = active(tracker);
  NotebookActions.insertBelow(panel.content);
  const cell = panel.content.activeCell;
  if (cell) {
    if (cell.model.type !== 'code') {
      NotebookActions.changeCellType(panel.content, 'code');
    }
    panel.content.activeCell?.model.sharedModel.setSource(code);
  }
}

/** The active cell's source replaced by `code`. */
export function replaceActive(tracker: INotebookTracker, code: string): void {
  const { cell } = active(tracker);
  cell.model.sharedModel.setSource(code);
}
