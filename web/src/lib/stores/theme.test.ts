import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { kThemeKey, ThemeStore } from './theme.svelte';
import themeInit from '../../../public/theme-init.js?raw';

/** The system's colour-scheme preference; jsdom has no matchMedia, so this stands in for it. */
class SystemScheme extends EventTarget {
  constructor(public matches: boolean) {
    super();
  }
  change(dark: boolean): void {
    this.matches = dark;
    this.dispatchEvent(Object.assign(new Event('change'), { matches: dark }));
  }
}

function system(dark: boolean): SystemScheme {
  const scheme = new SystemScheme(dark);
  vi.stubGlobal('matchMedia', (query: string) => {
    expect(query).toBe('(prefers-color-scheme: dark)');
    return scheme;
  });
  return scheme;
}

const root = document.documentElement;
const shown = () => ({ theme: root.dataset.theme, colorScheme: root.style.colorScheme });

beforeEach(() => {
  localStorage.clear();
  delete root.dataset.theme;
  root.style.colorScheme = '';
});

afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe('ThemeStore', () => {
  it('follows the system until a theme is picked', () => {
    const scheme = system(true);
    const theme = new ThemeStore();
    theme.init();
    expect(theme.choice).toBe('system');
    expect(shown()).toEqual({ theme: 'dark', colorScheme: 'dark' });
    scheme.change(false);
    expect(theme.resolved).toBe('light');
    expect(shown()).toEqual({ theme: 'light', colorScheme: 'light' });
  });

  it('is light where the browser cannot tell the system’s preference', () => {
    const theme = new ThemeStore();
    theme.init();
    expect(shown().theme).toBe('light');
  });

  it('keeps a picked theme when the system changes, and remembers it for the next visit', () => {
    const scheme = system(false);
    const theme = new ThemeStore();
    theme.init();
    theme.set('dark');
    expect(localStorage.getItem(kThemeKey)).toBe('dark');
    scheme.change(false);
    expect(shown().theme).toBe('dark');

    const next = new ThemeStore();
    next.init();
    expect(next.choice).toBe('dark');
    expect(shown().theme).toBe('dark');
  });

  it('forgets the pick when set back to the system', () => {
    system(true);
    const theme = new ThemeStore();
    theme.init();
    theme.set('light');
    expect(shown().theme).toBe('light');
    theme.set('system');
    expect(localStorage.getItem(kThemeKey)).toBeNull();
    expect(shown().theme).toBe('dark');
  });

  it('cycles system → light → dark → system', () => {
    system(true);
    const theme = new ThemeStore();
    theme.init();
    const seen: string[][] = [];
    for (let i = 0; i < 3; i++) {
      theme.cycle();
      seen.push([theme.choice, theme.resolved]);
    }
    expect(seen).toEqual([
      ['light', 'light'],
      ['dark', 'dark'],
      ['system', 'dark'],
    ]);
  });

  it('ignores a stored value it does not know', () => {
    system(true);
    localStorage.setItem(kThemeKey, 'sepia');
    const theme = new ThemeStore();
    theme.init();
    expect(theme.choice).toBe('system');
    expect(shown().theme).toBe('dark');
  });

  it('still applies a pick when the browser refuses to store it', () => {
    system(false);
    vi.spyOn(Storage.prototype, 'setItem').mockImplementation(() => {
      throw new DOMException('full', 'QuotaExceededError');
    });
    const theme = new ThemeStore();
    theme.init();
    theme.set('dark');
    expect(shown().theme).toBe('dark');
  });

  it('follows the system when storage cannot be read', () => {
    system(true);
    vi.spyOn(Storage.prototype, 'getItem').mockImplementation(() => {
      throw new DOMException('denied', 'SecurityError');
    });
    const theme = new ThemeStore();
    theme.init();
    expect(theme.choice).toBe('system');
    expect(shown().theme).toBe('dark');
  });

  // public/theme-init.js paints the theme before the app loads: it must agree with the store,
  // or a reload flashes one theme and then the other.
  it.each([
    [null, false],
    [null, true],
    ['light', true],
    ['dark', false],
    ['sepia', true],
  ])('agrees with the first-paint script (stored %s, system dark %s)', (stored, dark) => {
    system(dark);
    if (stored !== null) localStorage.setItem(kThemeKey, stored);
    new Function(themeInit)();
    const painted = shown();
    delete root.dataset.theme;
    root.style.colorScheme = '';
    const theme = new ThemeStore();
    theme.init();
    expect(shown()).toEqual(painted);
  });
});
