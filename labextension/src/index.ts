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
import { ICommandPalette } from '@jupyterlab/apputils';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { LabIcon } from '@jupyterlab/ui-components';

import { H2OGPTServer, apiBase } from './server';
import { ChatSidebar, IChatSettings } from './sidebar';
import iconSvg from '../style/h2ogpt.svg';

const PLUGIN_ID = 'h2ogpt-jupyterlab:plugin';
export const OPEN_CHAT = 'h2ogpt:open-chat';

export const h2ogptIcon = new LabIcon({ name: 'h2ogpt:logo', svgstr: iconSvg });

interface ISettings extends IChatSettings {
  serverUrl: string;
  area: 'left' | 'right';
}

const DEFAULTS: ISettings = {
  serverUrl: '',
  model: '',
  temperature: 0,
  maxTokens: 512,
  systemPrompt: '',
  area: 'right'
};

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'A chat with the local model in the sidebar, from the user\'s h2oGPT server.',
  autoStart: true,
  optional: [ILabShell, ILayoutRestorer, ICommandPalette, IRenderMimeRegistry, ISettingRegistry],
  activate: async (
    app: JupyterFrontEnd,
    labShell: ILabShell | null,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null,
    rendermime: IRenderMimeRegistry | null,
    registry: ISettingRegistry | null
  ) => {
    let settings: ISettings = { ...DEFAULTS };
    let server = new H2OGPTServer(apiBase(settings.serverUrl));
    const sidebar = new ChatSidebar({
      server: () => server,
      settings: () => settings,
      rendermime
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
  }
};

export default plugin;
