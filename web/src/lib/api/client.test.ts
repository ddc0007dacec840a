import { describe, expect, it, vi } from 'vitest';
import { ApiClient, kCsrfHeader, readCookie } from './client';
import { ApiError, parseRetryAfter } from './errors';
import { fakeFetch, json, problem } from '../../test/fakes';

function client(handler: Parameters<typeof fakeFetch>[0], cookies = '', onServerTrouble?: (e: ApiError) => void) {
  const fake = fakeFetch(handler);
  const api = new ApiClient({ fetchImpl: fake.fetch, cookies: () => cookies });
  if (onServerTrouble) api.onServerTrouble(onServerTrouble);
  return { api, calls: fake.calls };
}

async function caught(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

describe('ApiClient', () => {
  it('sends JSON to /api/v1 and parses the answer', async () => {
    const { api, calls } = client(() => json(202, { execution_id: 'abc', status: 'queued' }));
    const accepted = await api.execute({ script: "print('hi')", lang: 'python', lang_version: '3.11' });
    expect(accepted).toEqual({ execution_id: 'abc', status: 'queued' });
    expect(calls[0]?.url).toBe('/api/v1/execute');
    expect(calls[0]?.method).toBe('POST');
    expect(calls[0]?.headers['content-type']).toBe('application/json');
    expect(calls[0]?.body).toEqual({ script: "print('hi')", lang: 'python', lang_version: '3.11' });
  });

  it('turns a problem+json answer into an ApiError carrying detail, code and field', async () => {
    const { api } = client(() =>
      json(422, { title: 'Invalid request', status: 422, detail: "field 'lang' must be a string", code: 'invalid_field', field: 'lang', request_id: 'r-9' }),
    );
    const error = await caught(api.execute({ script: '', lang: 'x', lang_version: '1' }));
    expect(error.status).toBe(422);
    expect(error.code).toBe('invalid_field');
    expect(error.field).toBe('lang');
    expect(error.requestId).toBe('r-9');
    // Shown alone, the server's clause starts with a capital letter.
    expect(error.message).toBe("Field 'lang' must be a string");
  });

  it('sends the CSRF token from the cookie on unsafe methods only', async () => {
    const { api, calls } = client(() => json(200, { items: [] }), 'other=1; integr8scode_csrf=tok%2Ben; x=y');
    await api.scripts();
    await api.createScript({ name: 'a', lang: 'python', lang_version: '3.11', script: '' }).catch(() => {});
    await api.deleteScript('s-1').catch(() => {});
    expect(calls[0]?.headers[kCsrfHeader.toLowerCase()]).toBeUndefined();
    expect(calls[1]?.headers[kCsrfHeader.toLowerCase()]).toBe('tok+en');
    expect(calls[2]?.headers[kCsrfHeader.toLowerCase()]).toBe('tok+en');
  });

  it('falls back to the login answer’s CSRF token when the cookie is unreadable', async () => {
    const { api, calls } = client((call) =>
      call.url.endsWith('/auth/login')
        ? json(200, { access_token: 't', token_type: 'bearer', expires_in: 3600, csrf_token: 'from-login', user: { id: 1, username: 'ann', email: 'a@b.c', role: 'user', created_at: '' } })
        : new Response(null, { status: 204 }),
    );
    await api.login('ann', 'secret-password');
    await api.logout();
    expect(calls[1]?.headers[kCsrfHeader.toLowerCase()]).toBe('from-login');
    expect(api.csrfToken).toBeNull();
  });

  it('says "try again in N s" for 429 using Retry-After', async () => {
    const { api } = client(() => problem(429, 'rate_limited', 'Too many executions; try again in 41 s.', { 'Retry-After': '41' }));
    const error = await caught(api.execute({ script: '', lang: 'python', lang_version: '3.11' }));
    expect(error.status).toBe(429);
    expect(error.retryAfterSeconds).toBe(41);
    expect(error.message).toBe('Too many requests — try again in 41 s');
    expect(error.isServerTrouble).toBe(false);
  });

  it('reports a network failure as server trouble with a readable sentence', async () => {
    const trouble = vi.fn();
    const { api } = client(() => Promise.reject(new TypeError('Failed to fetch')), '', trouble);
    const error = await caught(api.runtimes());
    expect(error.kind).toBe('network');
    expect(error.message).toMatch(/Cannot reach the server/);
    expect(trouble).toHaveBeenCalledTimes(1);
  });

  it('reports 5xx as server trouble, but not a full queue', async () => {
    const trouble = vi.fn();
    const { api } = client(
      (call) =>
        call.url.endsWith('/runtimes')
          ? new Response('<html>Bad gateway</html>', { status: 502, headers: { 'Content-Type': 'text/html' } })
          : problem(503, 'queue_full', 'The queue is full; try again in 5 s.', { 'Retry-After': '5' }),
      '',
      trouble,
    );
    const gateway = await caught(api.runtimes());
    expect(gateway.status).toBe(502);
    expect(gateway.message).toBe('The server had a problem (HTTP 502). Try again in a moment.');
    const full = await caught(api.execute({ script: '', lang: 'python', lang_version: '3.11' }));
    expect(full.message).toBe('The queue is full; try again in 5 s.');
    expect(trouble).toHaveBeenCalledTimes(1);
    expect(trouble.mock.calls[0]?.[0]).toBe(gateway);
  });

  it('tells every trouble listener until it unsubscribes', async () => {
    const first = vi.fn();
    const second = vi.fn();
    const { api } = client(() => Promise.reject(new TypeError('Failed to fetch')), '', first);
    const unsubscribe = api.onServerTrouble(second);
    await caught(api.runtimes());
    unsubscribe();
    await caught(api.runtimes());
    expect(first).toHaveBeenCalledTimes(2);
    expect(second).toHaveBeenCalledTimes(1);
  });

  it('does not report an aborted request as trouble', async () => {
    const trouble = vi.fn();
    const { api } = client(() => Promise.reject(new DOMException('aborted', 'AbortError')), '', trouble);
    const error = await caught(api.me());
    expect(error.kind).toBe('aborted');
    expect(trouble).not.toHaveBeenCalled();
  });

  it('returns undefined for 204 and builds query strings without empty values', async () => {
    const { api, calls } = client((call) => (call.method === 'DELETE' ? new Response(null, { status: 204 }) : json(200, { items: [], total: 0, limit: 20, offset: 0 })));
    expect(await api.deleteScript('a/b')).toBeUndefined();
    await api.executions({ status: '', lang: 'python', limit: 20, offset: 0 });
    expect(calls[0]?.url).toBe('/api/v1/scripts/a%2Fb');
    expect(calls[1]?.url).toBe('/api/v1/executions?lang=python&limit=20&offset=0');
  });

  it('falls back to a status sentence when the error body is not a problem document', async () => {
    const { api } = client(() => new Response('nope', { status: 404 }));
    const error = await caught(api.execution('missing'));
    expect(error.message).toBe('Not found.');
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('7')).toBe(7);
    expect(parseRetryAfter(null)).toBeNull();
    expect(parseRetryAfter('soon')).toBeNull();
    const now = Date.parse('2026-11-27T17:20:00Z');
    expect(parseRetryAfter('Fri, 27 Nov 2026 17:20:30 GMT', now)).toBe(30);
  });
});

describe('readCookie', () => {
  it('finds a cookie by exact name', () => {
    expect(readCookie('a=1; integr8scode_csrf=xyz', 'integr8scode_csrf')).toBe('xyz');
    expect(readCookie('xintegr8scode_csrf=no', 'integr8scode_csrf')).toBeNull();
  });
});
