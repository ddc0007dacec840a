import { ApiError, parseRetryAfter } from './errors';
import type {
  Accepted,
  AdminStats,
  ExampleScript,
  ExecuteRequest,
  Execution,
  ExecutionListItem,
  LimitsInfo,
  LoginResponse,
  Page,
  Problem,
  Runtime,
  SavedScript,
  SavedScriptInput,
  User,
} from './types';

export const kCsrfCookie = 'integr8scode_csrf';
export const kCsrfHeader = 'X-CSRF-Token';

const kUnsafeMethods = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export interface ApiClientOptions {
  baseUrl?: string;
  fetchImpl?: typeof fetch;
  /** Reads document.cookie by default; injectable for tests. */
  cookies?: () => string;
}

type Listener = (error: ApiError) => void;

export interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | number | undefined | null>;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export function readCookie(cookies: string, name: string): string | null {
  for (const part of cookies.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) {
      const raw = part.slice(eq + 1).trim();
      try {
        return decodeURIComponent(raw);
      } catch {
        return raw;
      }
    }
  }
  return null;
}

/**
 * The browser's client of /api/v1. Authenticates with the session cookie and sends the
 * CSRF token on unsafe methods. Every failure is thrown as an ApiError whose message is a
 * sentence for the user. Safe to share; holds no per-request state.
 */
export class ApiClient {
  readonly baseUrl: string;
  private readonly fetchImpl: typeof fetch;
  private readonly cookies: () => string;
  private readonly troubleListeners = new Set<Listener>();
  private readonly unauthorizedListeners = new Set<Listener>();
  /** The token from the login response, used when the cookie cannot be read. */
  csrfToken: string | null = null;

  constructor(options: ApiClientOptions = {}) {
    this.baseUrl = options.baseUrl ?? '/api/v1';
    this.fetchImpl = options.fetchImpl ?? ((input, init) => globalThis.fetch(input, init));
    this.cookies = options.cookies ?? (() => (typeof document === 'undefined' ? '' : document.cookie));
  }

  /**
   * Calls `listener` with every error that means the server is down or failing (network,
   * 5xx). Listeners subscribe after the client is built, so those that need the client (the
   * connection monitor probes through it) are built after it. Returns an unsubscribe.
   */
  onServerTrouble(listener: Listener): () => void {
    this.troubleListeners.add(listener);
    return () => this.troubleListeners.delete(listener);
  }

  /** Calls `listener` when a request other than logging in answers 401: the session has ended. */
  onUnauthorized(listener: Listener): () => void {
    this.unauthorizedListeners.add(listener);
    return () => this.unauthorizedListeners.delete(listener);
  }

  url(path: string, query?: RequestOptions['query']): string {
    let url = this.baseUrl + path;
    if (query) {
      const params = new URLSearchParams();
      for (const [key, value] of Object.entries(query)) {
        if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
      }
      const text = params.toString();
      if (text) url += (url.includes('?') ? '&' : '?') + text;
    }
    return url;
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const headers: Record<string, string> = { Accept: 'application/json', ...options.headers };
    let body: string | undefined;
    if (options.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    if (kUnsafeMethods.has(method)) {
      const token = readCookie(this.cookies(), kCsrfCookie) ?? this.csrfToken;
      if (token) headers[kCsrfHeader] = token;
    }

    let response: Response;
    try {
      response = await this.fetchImpl(this.url(path, options.query), {
        method,
        headers,
        body,
        credentials: 'same-origin',
        signal: options.signal,
      });
    } catch (cause) {
      if (cause instanceof DOMException && cause.name === 'AbortError') throw new ApiError({ kind: 'aborted' });
      const error = new ApiError({ kind: 'network' });
      notify(this.troubleListeners, error);
      throw error;
    }

    if (!response.ok) {
      const error = await errorFromResponse(response);
      if (error.isServerTrouble) notify(this.troubleListeners, error);
      if (error.status === 401 && path !== '/auth/login') notify(this.unauthorizedListeners, error);
      throw error;
    }
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    if (text === '') return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ApiError({ kind: 'http', status: 502, problem: { detail: 'The server sent an answer this page cannot read.' } });
    }
  }

  // Runtimes, limits, examples.
  runtimes(): Promise<{ runtimes: Runtime[] }> {
    return this.request('GET', '/runtimes');
  }
  limits(): Promise<LimitsInfo> {
    return this.request('GET', '/limits');
  }
  examples(): Promise<{ scripts: ExampleScript[] }> {
    return this.request('GET', '/example-scripts');
  }

  // Executions.
  execute(request: ExecuteRequest, idempotency_key?: string): Promise<Accepted> {
    const headers: Record<string, string> = {};
    if (idempotency_key) headers['Idempotency-Key'] = idempotency_key;
    return this.request('POST', '/execute', { body: request, headers });
  }
  execution(id: string): Promise<Execution> {
    return this.request('GET', `/executions/${encodeURIComponent(id)}`);
  }
  executions(query: { status?: string; lang?: string; limit?: number; offset?: number } = {}): Promise<Page<ExecutionListItem>> {
    return this.request('GET', '/executions', { query });
  }
  cancel(id: string): Promise<Execution> {
    return this.request('POST', `/executions/${encodeURIComponent(id)}/cancel`);
  }
  /**
   * Whether this browser may hold a session: the CSRF cookie (readable by scripts) is set and
   * cleared with the httpOnly session cookie. Without it, asking /auth/me only earns a 401
   * in the console.
   */
  mayHaveSession(): boolean {
    return readCookie(this.cookies(), kCsrfCookie) !== null;
  }
  /** Makes the caller's execution readable by anyone with its id (`shared`), or takes that back. */
  share(id: string, shared: boolean): Promise<Execution> {
    return this.request(shared ? 'PUT' : 'DELETE', `/executions/${encodeURIComponent(id)}/share`);
  }
  retry(id: string): Promise<Accepted> {
    return this.request('POST', `/executions/${encodeURIComponent(id)}/retry`);
  }
  eventsUrl(id: string): string {
    return this.url(`/executions/${encodeURIComponent(id)}/events`);
  }

  // Accounts.
  register(username: string, email: string, password: string): Promise<User> {
    return this.request('POST', '/auth/register', { body: { username, email, password } });
  }
  async login(username: string, password: string): Promise<LoginResponse> {
    const answer = await this.request<LoginResponse>('POST', '/auth/login', { body: { username, password } });
    this.csrfToken = answer.csrf_token ?? null;
    return answer;
  }
  async logout(): Promise<void> {
    try {
      await this.request<void>('POST', '/auth/logout');
    } finally {
      this.csrfToken = null;
    }
  }
  me(): Promise<User> {
    return this.request('GET', '/auth/me');
  }

  // Saved scripts.
  scripts(): Promise<{ items: SavedScript[] }> {
    return this.request('GET', '/scripts');
  }
  script(id: string): Promise<SavedScript> {
    return this.request('GET', `/scripts/${encodeURIComponent(id)}`);
  }
  createScript(input: SavedScriptInput): Promise<SavedScript> {
    return this.request('POST', '/scripts', { body: input });
  }
  updateScript(id: string, input: SavedScriptInput): Promise<SavedScript> {
    return this.request('PUT', `/scripts/${encodeURIComponent(id)}`, { body: input });
  }
  deleteScript(id: string): Promise<void> {
    return this.request('DELETE', `/scripts/${encodeURIComponent(id)}`);
  }

  // Admin.
  adminUsers(query: { limit?: number; offset?: number } = {}): Promise<{ items: User[]; total: number }> {
    return this.request('GET', '/admin/users', { query });
  }
  adminExecutions(query: { status?: string; lang?: string; limit?: number; offset?: number } = {}): Promise<Page<ExecutionListItem>> {
    return this.request('GET', '/admin/executions', { query });
  }
  adminStats(): Promise<AdminStats> {
    return this.request('GET', '/admin/stats');
  }

  // Operations.
  live(): Promise<{ status: string }> {
    return this.request('GET', '/health/live');
  }
}

function notify(listeners: ReadonlySet<Listener>, error: ApiError): void {
  for (const listener of [...listeners]) listener(error);
}

async function errorFromResponse(response: Response): Promise<ApiError> {
  let problem: Problem | null = null;
  try {
    const text = await response.text();
    if (text) {
      const parsed: unknown = JSON.parse(text);
      if (parsed && typeof parsed === 'object') problem = parsed as Problem;
    }
  } catch {
    // Not JSON (a proxy's HTML error page, say): the status alone must speak.
  }
  return new ApiError({
    kind: 'http',
    status: response.status,
    problem,
    retryAfterSeconds: parseRetryAfter(response.headers.get('Retry-After')),
    requestId: response.headers.get('X-Request-Id'),
  });
}
