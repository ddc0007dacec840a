import { describe, expect, it } from 'vitest';
import { ApiClient } from '../api/client';
import { SessionStore } from './session.svelte';
import { fakeFetch, json, problem, type Handler } from '../../test/fakes';

const ann = { id: 7, username: 'ann', email: 'ann@example.com', role: 'user' as const, created_at: '2026-11-27T17:00:00.000Z' };

function setup(handler: Handler, cookies = 'integr8scode_csrf=c1') {
  const fake = fakeFetch(handler);
  const api = new ApiClient({ fetchImpl: fake.fetch, cookies: () => cookies });
  return { session: new SessionStore(api), api, calls: fake.calls };
}

describe('SessionStore', () => {
  it('restores the session from the cookie via /auth/me', async () => {
    const { session, calls } = setup(() => json(200, ann));
    expect(session.ready).toBe(false);
    await session.load();
    expect(calls[0]?.url).toBe('/api/v1/auth/me');
    expect(session.user?.username).toBe('ann');
    expect(session.ready).toBe(true);
    expect(session.isAdmin).toBe(false);
  });

  it('does not ask /auth/me without the session cookies (no 401 on anonymous page loads)', async () => {
    const { session, calls } = setup(() => json(200, ann), '');
    await session.load();
    expect(calls).toHaveLength(0);
    expect(session.user).toBeNull();
    expect(session.ready).toBe(true);
  });

  it('treats 401 from /auth/me as anonymous, not as an error', async () => {
    const { session } = setup(() => problem(401, 'unauthenticated', 'Log in first.'));
    await session.load();
    expect(session.user).toBeNull();
    expect(session.ready).toBe(true);
  });

  it('rethrows other failures but is still ready', async () => {
    const { session } = setup(() => Promise.reject(new TypeError('down')));
    await expect(session.load()).rejects.toThrow(/Cannot reach the server/);
    expect(session.ready).toBe(true);
    expect(session.loggedIn).toBe(false);
    expect(session.uncertain).toBe(true);
  });

  it('ends the session when any call answers 401', async () => {
    let expired = 0;
    const fake = fakeFetch((call) => (call.url.endsWith('/scripts') ? problem(401, 'token_expired', 'Your session expired; log in again.') : json(200, ann)));
    const api = new ApiClient({ fetchImpl: fake.fetch, cookies: () => '' });
    api.onUnauthorized(() => (expired += 1));
    const session = new SessionStore(api);
    await session.load();
    await expect(api.scripts()).rejects.toThrow('Your session expired; log in again.');
    expect(expired).toBe(1);
  });

  it('a wrong password is not a lost session', async () => {
    let expired = 0;
    const fake = fakeFetch(() => problem(401, 'unauthenticated', 'Wrong username or password.'));
    const api = new ApiClient({ fetchImpl: fake.fetch, cookies: () => '' });
    api.onUnauthorized(() => (expired += 1));
    await expect(new SessionStore(api).login('ann', 'nope-nope')).rejects.toThrow();
    expect(expired).toBe(0);
  });

  it('logs in and keeps the CSRF token for later unsafe requests', async () => {
    const { session, api } = setup(() =>
      json(200, { access_token: 'jwt', token_type: 'bearer', expires_in: 3600, csrf_token: 'c1', user: { ...ann, role: 'admin' } }),
    );
    await session.login('ann', 'correct horse');
    expect(session.user?.id).toBe(7);
    expect(session.isAdmin).toBe(true);
    expect(api.csrfToken).toBe('c1');
  });

  it('registers then logs in with the same credentials', async () => {
    const { session, calls } = setup((call) =>
      call.url.endsWith('/register')
        ? json(201, ann)
        : json(200, { access_token: 'jwt', token_type: 'bearer', expires_in: 3600, csrf_token: 'c1', user: ann }),
    );
    await session.register('ann', 'ann@example.com', 'correct horse');
    expect(calls.map((c) => c.url)).toEqual(['/api/v1/auth/register', '/api/v1/auth/login']);
    expect(calls[1]?.body).toEqual({ username: 'ann', password: 'correct horse' });
    expect(session.user?.username).toBe('ann');
  });

  it('a taken username surfaces the server’s sentence', async () => {
    const { session } = setup(() => problem(409, 'already_exists', 'The username “ann” is taken.'));
    await expect(session.register('ann', 'ann@example.com', 'correct horse')).rejects.toThrow('The username “ann” is taken.');
    expect(session.user).toBeNull();
  });

  it('logs out locally even when the server cannot be told', async () => {
    const { session } = setup((call) =>
      call.url.endsWith('/logout') ? Promise.reject(new TypeError('down')) : json(200, ann),
    );
    await session.load();
    await expect(session.logout()).rejects.toThrow();
    expect(session.user).toBeNull();
  });
});
