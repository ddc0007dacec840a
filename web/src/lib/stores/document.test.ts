import { describe, expect, it } from 'vitest';
import { EditorDocument } from './document.svelte';

const example = { lang: 'python', version: '3.11', script: 'print(1)\n', description: '' };
const saved = { id: 's-1', name: 'hello', lang: 'python', lang_version: '3.11', script: 'print(2)\n', created_at: '', updated_at: '' };

describe('EditorDocument', () => {
  it('an untouched example is not unsaved work; an edit is', () => {
    const doc = new EditorDocument();
    doc.loadExample(example, 'python', '3.11');
    expect(doc.dirty).toBe(false);
    expect(doc.isPristineExample(example)).toBe(true);
    doc.source += '# more';
    expect(doc.dirty).toBe(true);
    expect(doc.isPristineExample(example)).toBe(false);
  });

  it('tracks a saved script: edits and runtime changes are unsaved until saved again', () => {
    const doc = new EditorDocument();
    doc.open(saved);
    expect(doc.scriptId).toBe('s-1');
    expect(doc.dirty).toBe(false);
    doc.setRuntime('python', '3.9');
    expect(doc.dirty).toBe(true);
    doc.markSaved({ ...saved, lang_version: '3.9' });
    expect(doc.dirty).toBe(false);
    doc.source = 'changed';
    expect(doc.dirty).toBe(true);
    doc.markSaved({ ...saved, lang_version: '3.9', script: 'changed' });
    expect(doc.dirty).toBe(false);
  });

  it('bumps the revision when the text is replaced from outside', () => {
    const doc = new EditorDocument();
    const before = doc.revision;
    doc.open(saved);
    expect(doc.revision).toBe(before + 1);
    expect(doc.source).toBe('print(2)\n');
  });
});
