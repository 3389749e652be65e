/**
 * The status bar item: which model answers, what the server is doing (starting, loading,
 * ready, generating, error) and the last answer's speed; a click opens the chat. It listens to
 * the sidebar, which is the one place that talks to the server, so the item never polls.
 */

import { Widget } from '@lumino/widgets';

import { ChatSidebar, IChatStatus } from './sidebar';

const WORDS: Record<IChatStatus['state'], string> = {
  starting: 'starting',
  loading: 'loading',
  ready: 'ready',
  generating: 'generating',
  error: 'error'
};

export function statusText(status: IChatStatus): string {
  const parts = ['h2oGPT', status.model, WORDS[status.state]].filter(Boolean);
  if (status.state === 'ready' && status.tokensPerSecond > 0) {
    parts.push(`${status.tokensPerSecond.toFixed(1)} tok/s`);
  }
  return parts.join(' · ');
}

export class ChatStatusItem extends Widget {
  constructor(sidebar: ChatSidebar, open: () => void) {
    super();
    this.addClass('h2o-lab-statusbar');
    this.node.setAttribute('role', 'button');
    this.node.addEventListener('click', open);
    const draw = (_: ChatSidebar, status: IChatStatus): void => {
      this.node.textContent = statusText(status);
      this.node.title = status.detail || 'Open the h2oGPT chat';
      this.node.dataset.state = status.state;
    };
    sidebar.statusChanged.connect(draw);
    draw(sidebar, sidebar.status);
  }
}
