import type { Component } from 'svelte';
import EditorPage from '../pages/EditorPage.svelte';
import AuthPage from '../pages/AuthPage.svelte';
import NotFoundPage from '../pages/NotFoundPage.svelte';

/**
 * Who may see a page's content. The page itself tells everyone else what to do (log in); the
 * main navigation lists a page only to those who may see it.
 */
export type Access = 'anyone' | 'user' | 'admin';

// Pages differ in their props; the table hands each the props its route gives it.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Page = Component<any>;
export interface PageModule {
  default: Page;
}

export interface RouteDef {
  name: string;
  /** The path, with `:name` for a segment handed to the page as a prop of that name. */
  path: string;
  /** The document title's first part. */
  title: string;
  /**
   * The page's code. The editor, the log-in pages and "not found" come with the first load
   * (a module, not a promise, so they render without a frame in between); the rest are
   * chunks fetched when first opened.
   */
  load: () => PageModule | Promise<PageModule>;
  access: Access;
  /** The label in the main navigation, for the pages it lists. */
  nav?: string;
  /** Props fixed by the route: one page behind two routes. */
  props?: Record<string, unknown>;
}

const bundled = (page: Page) => (): PageModule => ({ default: page });

/** Every page of the UI; the server answers index.html for each of these paths. */
export const kRoutes: readonly RouteDef[] = [
  { name: 'editor', path: '/', title: 'Editor', load: bundled(EditorPage), access: 'anyone', nav: 'Editor' },
  { name: 'history', path: '/history', title: 'History', load: () => import('../pages/HistoryPage.svelte'), access: 'user', nav: 'History' },
  { name: 'scripts', path: '/scripts', title: 'Scripts', load: () => import('../pages/ScriptsPage.svelte'), access: 'user', nav: 'Scripts' },
  { name: 'admin', path: '/admin', title: 'Admin', load: () => import('../pages/AdminPage.svelte'), access: 'admin', nav: 'Admin' },
  { name: 'execution', path: '/executions/:id', title: 'Run result', load: () => import('../pages/ExecutionPage.svelte'), access: 'anyone' },
  { name: 'login', path: '/login', title: 'Log in', load: bundled(AuthPage), access: 'anyone', props: { mode: 'login' } },
  { name: 'register', path: '/register', title: 'Sign up', load: bundled(AuthPage), access: 'anyone', props: { mode: 'register' } },
];

export const kNotFound: RouteDef = { name: 'not-found', path: '', title: 'Not found', load: bundled(NotFoundPage), access: 'anyone' };

export interface RouteMatch {
  route: RouteDef;
  /** The `:name` segments, decoded. */
  params: Record<string, string>;
}

/** The route for a location's path; a trailing slash is ignored. */
export function matchRoute(pathname: string): RouteMatch {
  const path = pathname.replace(/\/+$/, '') || '/';
  for (const route of kRoutes) {
    const params = matchPath(route.path, path);
    if (params) return { route, params };
  }
  return { route: kNotFound, params: {} };
}

function matchPath(pattern: string, path: string): Record<string, string> | null {
  const want = pattern.split('/');
  const got = path.split('/');
  if (want.length !== got.length) return null;
  const params: Record<string, string> = {};
  for (const [i, part] of want.entries()) {
    const segment = got[i] ?? '';
    if (!part.startsWith(':')) {
      if (part !== segment) return null;
      continue;
    }
    if (segment === '') return null;
    try {
      params[part.slice(1)] = decodeURIComponent(segment);
    } catch {
      // A malformed escape (%E0%A4) names no page.
      return null;
    }
  }
  return params;
}

/** The document title for a route. */
export function documentTitle(route: RouteDef): string {
  return `${route.title} · Integr8sCode`;
}

/** Whether someone (as the session store describes them) may see a page of this access. */
export function allows(access: Access, who: { loggedIn: boolean; isAdmin: boolean }): boolean {
  if (access === 'admin') return who.isAdmin;
  if (access === 'user') return who.loggedIn;
  return true;
}

/** The pages the main navigation lists for someone, in the table's order. */
export function navigation(who: { loggedIn: boolean; isAdmin: boolean }): RouteDef[] {
  return kRoutes.filter((route) => route.nav !== undefined && allows(route.access, who));
}
