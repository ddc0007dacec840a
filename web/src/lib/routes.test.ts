import { describe, expect, it } from 'vitest';
import { allows, documentTitle, kNotFound, kRoutes, matchRoute, navigation } from './routes';
import AuthPage from '../pages/AuthPage.svelte';
import EditorPage from '../pages/EditorPage.svelte';

const anonymous = { loggedIn: false, isAdmin: false };
const user = { loggedIn: true, isAdmin: false };
const admin = { loggedIn: true, isAdmin: true };

describe('route table', () => {
  it.each([
    ['/', 'editor'],
    ['/history', 'history'],
    ['/history/', 'history'],
    ['/scripts', 'scripts'],
    ['/admin', 'admin'],
    ['/login', 'login'],
    ['/register', 'register'],
    ['/executions/e-1', 'execution'],
    ['/executions/e-1/', 'execution'],
    ['/executions', 'not-found'],
    ['/executions/e-1/cancel', 'not-found'],
    ['/histories', 'not-found'],
    ['/nowhere/at/all', 'not-found'],
  ])('%s shows the %s page', (path, name) => {
    expect(matchRoute(path).route.name).toBe(name);
  });

  it('hands a path segment to the page, decoded', () => {
    expect(matchRoute('/executions/a%20b').params).toEqual({ id: 'a b' });
    expect(matchRoute('/history').params).toEqual({});
  });

  it('answers "not found" for a segment that is not valid percent-encoding', () => {
    expect(matchRoute('/executions/%E0%A4%A').route).toBe(kNotFound);
  });

  it('gives every page a title', () => {
    expect(documentTitle(matchRoute('/executions/e-1').route)).toBe('Run result · Integr8sCode');
    expect(documentTitle(matchRoute('/register').route)).toBe('Sign up · Integr8sCode');
    expect(documentTitle(kNotFound)).toBe('Not found · Integr8sCode');
    for (const route of kRoutes) expect(route.title, route.name).not.toBe('');
  });

  it('names each route once and each path once', () => {
    const names = kRoutes.map((r) => r.name);
    const paths = kRoutes.map((r) => r.path);
    expect(new Set(names).size).toBe(names.length);
    expect(new Set(paths).size).toBe(paths.length);
    expect(names).not.toContain(kNotFound.name);
  });

  it('loads every page: the first-load ones at once, the others as chunks', async () => {
    const editor = kRoutes.find((r) => r.name === 'editor')!;
    expect(editor.load()).toEqual({ default: EditorPage });
    for (const route of kRoutes) {
      const page = await route.load();
      expect(typeof page.default, route.name).toBe('function');
    }
  });

  it('serves log in and sign up with one page in two modes', () => {
    const login = matchRoute('/login').route;
    const register = matchRoute('/register').route;
    expect(login.load()).toEqual({ default: AuthPage });
    expect(register.load()).toEqual({ default: AuthPage });
    expect(login.props).toEqual({ mode: 'login' });
    expect(register.props).toEqual({ mode: 'register' });
  });

  it('lets each page be seen by whom its access says', () => {
    expect([anonymous, user, admin].map((who) => allows('anyone', who))).toEqual([true, true, true]);
    expect([anonymous, user, admin].map((who) => allows('user', who))).toEqual([false, true, true]);
    expect([anonymous, user, admin].map((who) => allows('admin', who))).toEqual([false, false, true]);
  });

  it('lists in the navigation only the pages one may see, in order', () => {
    const labels = (who: typeof anonymous) => navigation(who).map((r) => r.nav);
    expect(labels(anonymous)).toEqual(['Editor']);
    expect(labels(user)).toEqual(['Editor', 'History', 'Scripts']);
    expect(labels(admin)).toEqual(['Editor', 'History', 'Scripts', 'Admin']);
    // A link needs a path without parameters.
    for (const route of navigation(admin)) expect(route.path).not.toContain(':');
  });
});
