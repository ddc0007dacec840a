// Test doubles for the browser's fetch and EventSource. These unit tests exercise the client
// and the stores; the real server and browser are exercised by tests/e2e.
import type { EventSourceLike } from '../lib/stores/execution.svelte';
import type { Execution } from '../lib/api/types';

export interface Call {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: unknown;
}

export type Handler = (call: Call) => Response | Promise<Response>;

export function fakeFetch(handler: Handler): { fetch: typeof fetch; calls: Call[] } {
  const calls: Call[] = [];
  const impl = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const headers: Record<string, string> = {};
    new Headers(init?.headers).forEach((value, key) => (headers[key] = value));
    const call: Call = {
      url: String(input),
      method: init?.method ?? 'GET',
      headers,
      body: typeof init?.body === 'string' ? JSON.parse(init.body) : undefined,
    };
    calls.push(call);
    return handler(call);
  };
  return { fetch: impl as typeof fetch, calls };
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': status >= 400 ? 'application/problem+json' : 'application/json', ...headers },
  });
}

export function problem(status: number, code: string, detail: string, headers: Record<string, string> = {}): Response {
  return json(status, { type: `https://integr8scode.dev/problems/${code}`, title: 'Error', status, detail, code, request_id: 'req-1' }, headers);
}

export class FakeEventSource implements EventSourceLike {
  static instances: FakeEventSource[] = [];
  readyState = 0;
  onopen: ((event: Event) => void) | null = null;
  onerror: ((event: Event) => void) | null = null;
  closed = false;
  private listeners = new Map<string, ((event: MessageEvent) => void)[]>();

  constructor(readonly url: string) {
    FakeEventSource.instances.push(this);
  }

  addEventListener(type: string, listener: (event: MessageEvent) => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }

  close(): void {
    this.closed = true;
    this.readyState = 2;
  }

  open(): void {
    this.readyState = 1;
    this.onopen?.(new Event('open'));
  }

  emit(type: string, data: unknown, id?: number): void {
    const event = new MessageEvent(type, { data: JSON.stringify(data), lastEventId: id === undefined ? '' : String(id) });
    for (const listener of this.listeners.get(type) ?? []) listener(event);
  }

  /** The connection dropped; `closed` says whether the browser gave up (CLOSED) or retries. */
  fail(closed: boolean): void {
    this.readyState = closed ? 2 : 0;
    this.onerror?.(new Event('error'));
  }
}

export function execution(overrides: Partial<Execution> = {}): Execution {
  return {
    execution_id: 'e-1',
    status: 'completed',
    lang: 'python',
    lang_version: '3.11',
    exit_code: 0,
    signal: null,
    stdout: '',
    stderr: '',
    stdout_truncated: false,
    stderr_truncated: false,
    message: null,
    resource_usage: { wall_time_ms: 31, cpu_time_ms: 24, peak_memory_bytes: 9617408 },
    limits: {
      memory_bytes: 134217728,
      cpu_millicores: 1000,
      timeout_ms: 5000,
      pids: 64,
      output_bytes: 1048576,
    },
    script: "print('hi')",
    stdin: '',
    owner_id: null,
    created_at: '2026-11-27T17:20:01.123Z',
    started_at: '2026-11-27T17:20:01.150Z',
    finished_at: '2026-11-27T17:20:01.190Z',
    ...overrides,
  };
}

/** Timers driven by hand: run() fires everything due, in order. */
export class ManualTimers {
  now = 0;
  private queue: { at: number; fn: () => void; handle: number }[] = [];
  private next = 1;

  setTimeout = (fn: () => void, ms: number): unknown => {
    const handle = this.next++;
    this.queue.push({ at: this.now + ms, fn, handle });
    return handle;
  };

  clearTimeout = (handle: unknown): void => {
    this.queue = this.queue.filter((t) => t.handle !== handle);
  };

  /** Moves the clock forward, firing due timers. */
  advance(ms: number): void {
    const until = this.now + ms;
    for (;;) {
      this.queue.sort((a, b) => a.at - b.at);
      const first = this.queue[0];
      if (!first || first.at > until) break;
      this.queue.shift();
      this.now = first.at;
      first.fn();
    }
    this.now = until;
  }

  pending(): number[] {
    return this.queue.map((t) => t.at - this.now).sort((a, b) => a - b);
  }
}

/** Lets pending promise callbacks run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
  await new Promise((resolve) => setTimeout(resolve, 0));
}

/** Animation frames driven by hand: tick() runs the callbacks requested so far. */
export class ManualFrames {
  private callbacks = new Map<number, () => void>();
  private next = 1;

  request = (callback: () => void): unknown => {
    const handle = this.next++;
    this.callbacks.set(handle, callback);
    return handle;
  };

  cancel = (handle: unknown): void => {
    this.callbacks.delete(handle as number);
  };

  get requested(): number {
    return this.callbacks.size;
  }

  tick(): void {
    const due = [...this.callbacks.values()];
    this.callbacks.clear();
    for (const callback of due) callback();
  }
}
