import { Widget } from '@lumino/widgets';

import { SHORT_NAME, TITLE } from './names';

/**
 * The extension's panel: a title and a list of labelled values, which the
 * plugin fills in (settings, and the answers of the services it calls).
 */
export class ExtensionWidget extends Widget {
  constructor() {
    super();
    this.id = `${SHORT_NAME}-widget`;
    this.addClass('naavre-ExtensionWidget');
    this.title.label = TITLE;
    this.title.closable = true;
    const heading = document.createElement('h2');
    heading.textContent = TITLE;
    this._list = document.createElement('dl');
    this.node.append(heading, this._list);
  }

  /** Shows `value` under `label`, replacing what the label showed before. */
  setEntry(label: string, value: string): void {
    let entry = this._entries.get(label);
    if (!entry) {
      const term = document.createElement('dt');
      term.textContent = label;
      entry = document.createElement('dd');
      this._list.append(term, entry);
      this._entries.set(label, entry);
    }
    entry.textContent = value;
  }

  /** The value shown under `label`, if any. */
  entry(label: string): string | undefined {
    return this._entries.get(label)?.textContent ?? undefined;
  }

  private _list: HTMLDListElement;
  private _entries = new Map<string, HTMLElement>();
}
