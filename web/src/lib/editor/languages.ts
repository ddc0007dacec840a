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
    case 'ruby': {
      const [{ StreamLanguage }, { ruby }] = await Promise.all([
        import('@codemirror/language'),
        import('@codemirror/legacy-modes/mode/ruby'),
      ]);
      return StreamLanguage.define(ruby);
    }
    case 'perl': {
      const [{ StreamLanguage }, { perl }] = await Promise.all([
        import('@codemirror/language'),
        import('@codemirror/legacy-modes/mode/perl'),
      ]);
      return StreamLanguage.define(perl);
    }
    case 'lua': {
      const [{ StreamLanguage }, { lua }] = await Promise.all([
        import('@codemirror/language'),
        import('@codemirror/legacy-modes/mode/lua'),
      ]);
      return StreamLanguage.define(lua);
    }
    case 'go': {
      const [{ StreamLanguage }, { go }] = await Promise.all([
        import('@codemirror/language'),
        import('@codemirror/legacy-modes/mode/go'),
      ]);
      return StreamLanguage.define(go);
    }
    case 'rust': {
      const [{ StreamLanguage }, { rust }] = await Promise.all([
        import('@codemirror/language'),
        import('@codemirror/legacy-modes/mode/rust'),
      ]);
      return StreamLanguage.define(rust);
    }
    case 'java':
    case 'kotlin': {
      const [{ StreamLanguage }, clike] = await Promise.all([
        import('@codemirror/language'),
        import('@codemirror/legacy-modes/mode/clike'),
      ]);
      return StreamLanguage.define(mode === 'java' ? clike.java : clike.kotlin);
    }
    case 'php': {
      // No PHP grammar among the installed packages: C-like highlighting is close.
      const [{ StreamLanguage }, { clike }] = await Promise.all([
        import('@codemirror/language'),
        import('@codemirror/legacy-modes/mode/clike'),
      ]);
      return StreamLanguage.define(
        clike({ name: 'php', keywords: Object.fromEntries('function class echo if else foreach for while return new fn public private protected static array match try catch throw'.split(' ').map((w) => [w, true])) }),
      );
    }
    case 'scheme': {
      const [{ StreamLanguage }, { scheme }] = await Promise.all([
        import('@codemirror/language'),
        import('@codemirror/legacy-modes/mode/scheme'),
      ]);
      return StreamLanguage.define(scheme);
    }
    case 'commonlisp': {
      const [{ StreamLanguage }, { commonLisp }] = await Promise.all([
        import('@codemirror/language'),
        import('@codemirror/legacy-modes/mode/commonlisp'),
      ]);
      return StreamLanguage.define(commonLisp);
    }
    case 'tcl': {
      const [{ StreamLanguage }, { tcl }] = await Promise.all([
        import('@codemirror/language'),
        import('@codemirror/legacy-modes/mode/tcl'),
      ]);
      return StreamLanguage.define(tcl);
    }
    default:
      return [];
  }
}
