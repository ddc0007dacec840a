export type ThemeChoice = 'system' | 'light' | 'dark';
export const kThemeKey = 'integr8scode-theme';

/**
 * Light/dark theme: follows the system until the user picks one, and remembers the pick.
 * Applies itself as `data-theme` on <html>; public/theme-init.js does the same before the
 * first paint so a reload never flashes the wrong theme.
 */
export class ThemeStore {
  choice = $state<ThemeChoice>('system');
  systemDark = $state(false);

  private media: MediaQueryList | null = null;

  init(): void {
    const stored = safeGet(kThemeKey);
    this.choice = stored === 'light' || stored === 'dark' ? stored : 'system';
    if (typeof matchMedia === 'function') {
      this.media = matchMedia('(prefers-color-scheme: dark)');
      this.systemDark = this.media.matches;
      this.media.addEventListener('change', (event) => {
        this.systemDark = event.matches;
        this.apply();
      });
    }
    this.apply();
  }

  get resolved(): 'light' | 'dark' {
    if (this.choice === 'system') return this.systemDark ? 'dark' : 'light';
    return this.choice;
  }

  set(choice: ThemeChoice): void {
    this.choice = choice;
    if (choice === 'system') safeRemove(kThemeKey);
    else safeSet(kThemeKey, choice);
    this.apply();
  }

  /** Cycles system → light → dark → system. */
  cycle(): void {
    this.set(this.choice === 'system' ? 'light' : this.choice === 'light' ? 'dark' : 'system');
  }

  private apply(): void {
    if (typeof document === 'undefined') return;
    document.documentElement.dataset.theme = this.resolved;
    document.documentElement.style.colorScheme = this.resolved;
  }
}

// Storage can throw (privacy modes, quota): the theme is a nicety, never an error.
export function safeGet(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}
export function safeSet(key: string, value: string): void {
  try {
    localStorage.setItem(key, value);
  } catch {
    /* not remembered, still applied */
  }
}
function safeRemove(key: string): void {
  try {
    localStorage.removeItem(key);
  } catch {
    /* nothing to forget */
  }
}
