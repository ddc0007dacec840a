import type { Extension } from '@codemirror/state';

/**
 * Syntax support per runtime `editor_mode`, each loaded on first use so the page only
 * downloads the grammars it shows. Unknown modes get plain text.
 */
export async function loadLanguage(mode: string): Promise<Extension> {
  switch (mode) {
    case 'python':
      return (await import('@codemirror/lang-python')).python();
    case 'javascript':
    case 'node':
      return (await import('@codemirror/lang-javascript')).javascript();
    case 'typescript':
      return (await import('@codemirror/lang-javascript')).javascript({ typescript: true });
    case 'c':
    case 'cpp':
      return (await import('@codemirror/lang-cpp')).cpp();
    case 'shell':
    case 'bash': {
      const [{ StreamLanguage }, { shell }] = await Promise.all([
        import('@codemirror/language'),
        import('@codemirror/legacy-modes/mode/shell'),
      ]);
      return StreamLanguage.define(shell);
    }
    default:
      return [];
  }
}
