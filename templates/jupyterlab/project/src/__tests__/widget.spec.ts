import { ExtensionWidget } from '../widget';

describe('ExtensionWidget', () => {
  it('shows each label once, with its latest value', () => {
    const widget = new ExtensionWidget();
    widget.setEntry('Virtual lab', 'lab-1');
    widget.setEntry('Status', 'ok');
    widget.setEntry('Virtual lab', 'lab-2');

    expect(widget.entry('Virtual lab')).toBe('lab-2');
    expect(widget.entry('Missing')).toBeUndefined();
    const terms = Array.from(widget.node.querySelectorAll('dt'));
    expect(terms.map(term => term.textContent)).toEqual([
      'Virtual lab',
      'Status'
    ]);
    expect(widget.node.querySelectorAll('dd')).toHaveLength(2);
    expect(widget.title.closable).toBe(true);
  });
});
