/**
 * h2oGPT in JupyterLab: the chat sidebar, its command and shortcut, and its settings.
 *
 * One plugin. The sidebar talks to the user's h2oGPT server over HTTP (no kernel); the
 * settings (`schema/plugin.json`) say where that server is and how to generate.
 */

import {
  ILabShell,
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, Notification } from '@jupyterlab/apputils';
import { ICompletionProviderManager } from '@jupyterlab/completer';
import { INotebookTracker } from '@jupyterlab/notebook';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStatusBar } from '@jupyterlab/statusbar';
import { LabIcon } from '@jupyterlab/ui-components';
import { Menu } from '@lumino/widgets';

import { H2OGPTInlineProvider } from './completion';
import { cellContext, insertBelow, replaceActive } from './notebook';
import {
  ICellContext,
  IPrompt,
  askSelection,
  documentCell,
  explainCell,
  explainOutput,
  firstCodeBlock,
  fixError,
  generateCell,
  optimizeCell
} from './prompts';
import { H2OGPTServer, apiBase, locate } from './server';
import { ChatSidebar, IChatSettings } from './sidebar';
import { ChatStatusItem } from './statusbar';
import iconSvg from '../style/h2ogpt.svg';

const PLUGIN_ID = 'h2ogpt-jupyterlab:plugin';
export const OPEN_CHAT = 'h2ogpt:open-chat';

/** The cell commands: id, menu label, the prompt they send. */
const CELL_COMMANDS: [string, string, (cell: ICellContext, typed: string) => IPrompt][] = [
  ['h2ogpt:explain-cell', 'Explain Cell', explainCell],
  ['h2ogpt:fix-error', 'Fix Error', fixError],
  ['h2ogpt:explain-output', 'Explain Output', explainOutput],
  ['h2ogpt:ask-selection', 'Ask About Selection', askSelection],
  ['h2ogpt:generate-cell', 'Generate Cell Below', generateCell],
  ['h2ogpt:optimize-cell', 'Optimize Cell', optimizeCell],
  ['h2ogpt:document-cell', 'Document Cell', documentCell]
];
const GENERATE = 'h2ogpt:generate-cell';

export const h2ogptIcon = new LabIcon({ name: 'h2ogpt:logo', svgstr: iconSvg });

interface ISettings extends IChatSettings {
  serverUrl: string;
  area: 'left' | 'right';
  inlineCompletion: 'manual' | 'automatic' | 'off';
  completionTokens: number;
}

const DEFAULTS: ISettings = {
  serverUrl: '',
  model: '',
  temperature: 0,
  maxTokens: 512,
  systemPrompt: '',
  area: 'right',
  inlineCompletion: 'manual',
  completionTokens: 48
};

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'A chat with the local model in the sidebar, from the user\'s h2oGPT server.',
  autoStart: true,
  optional: [
    ILabShell,
    ILayoutRestorer,
    ICommandPalette,
    IRenderMimeRegistry,
    ISettingRegistry,
    INotebookTracker,
    IStatusBar,
    ICompletionProviderManager
  ],
  activate: async (
    app: JupyterFrontEnd,
    labShell: ILabShell | null,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null,
    rendermime: IRenderMimeRegistry | null,
    registry: ISettingRegistry | null,
    tracker: INotebookTracker | null,
    statusBar: IStatusBar | null,
    completions: ICompletionProviderManager | null
  ) => {
    let settings: ISettings = { ...DEFAULTS };
    let server = new H2OGPTServer(apiBase(settings.serverUrl));
    const report = (message: string): void => {
      Notification.warning(`h2oGPT: ${message}`, { autoClose: 6000 });
    };
    const sidebar = new ChatSidebar({
      server: () => server,
      settings: () => settings,
      rendermime,
      report,
      openSource: async source => {
        const path = await locate(source.source);
        const widget: any = await app.commands.execute('docmanager:open', { path });
        if (source.page && /\.pdf$/i.test(path) && widget?.setFragment) {
          widget.setFragment(`#page=${source.page}`); // the PDF viewer opens at the page
        }
      },
      code: tracker
        ? {
            insertBelow: code => insertBelow(tracker, code),
            replaceActive: code => replaceActive(tracker, code)
          }
        : null
    });
    sidebar.title.icon = h2ogptIcon;

    const read = (loaded: ISettingRegistry.ISettings): void => {
      settings = { ...DEFAULTS, ...(loaded.composite as Partial<ISettings>) };
      const base = apiBase(settings.serverUrl);
      if (base !== server.base) {
        server = new H2OGPTServer(base);
        if (sidebar.isAttached) {
          void sidebar.refresh();
        }
      }
    };
    if (registry) {
      try {
        const loaded = await registry.load(PLUGIN_ID);
        read(loaded);
        loaded.changed.connect(read);
      } catch (error) {
        console.warn('h2oGPT: settings not loaded, using the defaults', error);
      }
    }

    app.shell.add(sidebar, settings.area, { rank: 900 });
    restorer?.add(sidebar, sidebar.id);

    app.commands.addCommand(OPEN_CHAT, {
      label: 'h2oGPT: Open Chat',
      caption: 'Chat with the local model in the sidebar',
      icon: h2ogptIcon,
      execute: () => {
        if (labShell && !sidebar.isAttached) {
          app.shell.add(sidebar, settings.area, { rank: 900 });
        }
        app.shell.activateById(sidebar.id);
        sidebar.prompt.focus();
      }
    });
    palette?.addItem({ command: OPEN_CHAT, category: 'h2oGPT' });
    if (tracker) {
      addCellCommands(app, tracker, sidebar, report, palette);
    }
    statusBar?.registerStatusItem('h2ogpt-jupyterlab:status', {
      item: new ChatStatusItem(sidebar, () => void app.commands.execute(OPEN_CHAT)),
      align: 'left',
      rank: 900
    });
    completions?.registerInlineProvider(
      new H2OGPTInlineProvider(
        () => server,
        () => settings
      )
    );
    void sidebar.refresh(); // the status bar knows the server's state from the start
  }
};

/** The cell commands, in the palette and in the cell and output context menus. */
function addCellCommands(
  app: JupyterFrontEnd,
  tracker: INotebookTracker,
  sidebar: ChatSidebar,
  report: (message: string) => void,
  palette: ICommandPalette | null
): void {
  const submenu = new Menu({ commands: app.commands });
  submenu.title.label = 'h2oGPT';
  submenu.title.icon = h2ogptIcon;
  for (const [id, label, build] of CELL_COMMANDS) {
    app.commands.addCommand(id, {
      label: `h2oGPT: ${label}`,
      caption: `${label}, in the h2oGPT chat`,
      isEnabled: () => tracker.activeCell !== null,
      execute: async () => {
        if (sidebar.busy) {
          report('an answer is still streaming: stop it first');
          return;
        }
        let prompt: IPrompt;
        try {
          prompt = build(cellContext(tracker), sidebar.prompt.value);
        } catch (error) {
          report(String((error as Error).message || error));
          return;
        }
        await app.commands.execute(OPEN_CHAT);
        if (id === 'h2ogpt:ask-selection') {
          sidebar.prompt.value = ''; // what was typed is the question now
        }
        const turn = await sidebar.send(prompt.text, prompt.label);
        if (id === GENERATE && turn && turn.finish !== 'error' && turn.finish !== 'cancelled') {
          const code = firstCodeBlock(turn.answer) ?? turn.answer.trim();
          if (code) {
            insertBelow(tracker, code);
          }
        }
      }
    });
    palette?.addItem({ command: id, category: 'h2oGPT' });
    submenu.addItem({ command: id });
  }
  app.contextMenu.addItem({ type: 'submenu', submenu, selector: '.jp-Notebook .jp-Cell', rank: 30 });
}

export default plugin;
