import { afterEach, describe, expect, it, vi } from 'vitest';
import { api, connection, session } from './app.svelte';
import { fakeFetch, flush, json, problem, type Handler } from '../test/fakes';

// The real singletons as the page wires them; only the browser's fetch is a double.

const ann = { id: 7, username: 'ann', email: 'ann@example.com', role: 'user' as const, created_at: '2026-11-27T17:00:00.000Z' };

function serve(handler: Handler) {
  const fake = fakeFetch(handler);
  vi.stubGlobal('fetch', fake.fetch);
  return fake.calls;
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('the page’s singletons', () => {
  it('end the session when a call answers 401', async () => {
    serve((call) =>
      call.url.endsWith('/auth/login')
        ? json(200, { access_token: 'jwt', token_type: 'bearer', expires_in: 3600, csrf_token: 'c1', user: ann })
        : problem(401, 'token_expired', 'Your session expired; log in again.'),
    );
    await session.login('ann', 'correct horse');
    expect(session.loggedIn).toBe(true);
    await expect(api.scripts()).rejects.toThrow('Your session expired');
    expect(session.loggedIn).toBe(false);
  });

  it('show the server as down when a call cannot reach it, and up once the probe answers', async () => {
    let up = false;
    const calls = serve((call) => (up ? json(200, { status: 'ok' }) : Promise.reject(new TypeError(`down: ${call.url}`))));
    await expect(api.runtimes()).rejects.toThrow(/Cannot reach the server/);
    expect(connection.down).toBe(true);

    up = true;
    connection.retryNow();
    await flush();
    expect(calls.at(-1)?.url).toBe('/api/v1/health/live');
    expect(connection.down).toBe(false);
  });
});
