/**
 * Client-side navigation over the history API: where the page is, and going elsewhere.
 * Which page a path shows is the route table's business (routes.ts), which App.svelte reads:
 * the table imports pages, and pages import this router.
 */
export class Router {
  path = $state('/');
  search = $state('');

  init(): void {
    this.sync();
    addEventListener('popstate', () => this.sync());
  }

  navigate(to: string, options: { replace?: boolean } = {}): void {
    const url = new URL(to, location.origin);
    if (url.pathname === this.path && url.search === this.search && !options.replace) return;
    if (options.replace) history.replaceState(null, '', url.pathname + url.search);
    else history.pushState(null, '', url.pathname + url.search);
    this.sync();
    scrollTo(0, 0);
  }

  /** For <a onclick>: follows internal links without reloading, leaves modified clicks alone. */
  link = (event: MouseEvent): void => {
    if (event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const anchor = (event.currentTarget as HTMLElement).closest('a');
    if (!anchor || anchor.target || anchor.hasAttribute('download')) return;
    const url = new URL(anchor.href, location.href);
    if (url.origin !== location.origin || url.pathname.startsWith('/api/') || url.pathname.startsWith('/docs')) return;
    event.preventDefault();
    this.navigate(url.pathname + url.search);
  };

  param(name: string): string | null {
    return new URLSearchParams(this.search).get(name);
  }

  private sync(): void {
    this.path = location.pathname;
    this.search = location.search;
  }
}
