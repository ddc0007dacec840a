import type { ApiClient } from '../api/client';
import { ApiError, errorText } from '../api/errors';
import type { ExecuteRequest, Execution, ExecutionStatus } from '../api/types';
import { isTerminal } from '../api/types';
import { AnsiRenderer } from '../ansi';
import type { Timers } from './connection.svelte';

export type Stream = 'stdout' | 'stderr';

/** A run of output from one stream, in arrival order; `html` is escaped and safe to inject. */
export interface Segment {
  stream: Stream;
  text: string;
  html: string;
}

/** The subset of EventSource this store uses, so tests can feed events by hand. */
export interface EventSourceLike {
  readonly readyState: number;
  onopen: ((event: Event) => void) | null;
  onerror: ((event: Event) => void) | null;
  addEventListener(type: string, listener: (event: MessageEvent) => void): void;
  close(): void;
}

export type EventSourceFactory = (url: string) => EventSourceLike;

const kClosed = 2; // EventSource.CLOSED
const kMaxManualReconnects = 8;

export type Phase = 'idle' | 'submitting' | 'live' | 'done';

const kRealTimers: Timers = {
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/**
 * One execution as the UI follows it: submit, then status and output over Server-Sent
 * Events, then the final result. The state machine:
 *
 *   idle → submitting → live (queued → running) → done (a terminal status)
 *           └──────────────→ done (submission refused: `error` holds why)
 *
 * Events carry a sequence number; anything at or below the last one seen is dropped, which
 * makes a reconnect (the browser's own, with Last-Event-ID, or ours after the stream was
 * closed, which replays from the start) show every chunk exactly once. When the stream
 * ends without a result, the record is fetched instead. Single-threaded.
 */
export class ExecutionRun {
  phase = $state<Phase>('idle');
  executionId = $state<string | null>(null);
  status = $state<ExecutionStatus | null>(null);
  segments = $state<Segment[]>([]);
  result = $state<Execution | null>(null);
  /** Why the run could not be submitted, followed or cancelled: a sentence for the user. */
  error = $state<string | null>(null);
  /** The stream dropped and is being re-established. */
  reconnecting = $state(false);
  cancelling = $state(false);

  lastEventId = -1;
  private source: EventSourceLike | null = null;
  private renderers: Record<Stream, AnsiRenderer> = { stdout: new AnsiRenderer(), stderr: new AnsiRenderer() };
  private streamed: Record<Stream, string> = { stdout: '', stderr: '' };
  private reconnects = 0;
  private reconnectTimer: unknown = null;
  private disposed = false;

  constructor(
    private readonly api: ApiClient,
    private readonly openEvents: EventSourceFactory,
    private readonly timers: Timers = kRealTimers,
  ) {}

  get active(): boolean {
    return this.phase === 'submitting' || this.phase === 'live';
  }

  get stdout(): string {
    return this.streamed.stdout;
  }

  get stderr(): string {
    return this.streamed.stderr;
  }

  /** Submits the code and follows it. Resolves once submitted (or refused). */
  async start(request: ExecuteRequest): Promise<void> {
    this.reset();
    this.phase = 'submitting';
    try {
      const accepted = await this.api.execute(request);
      if (this.disposed) return;
      this.executionId = accepted.execution_id;
      this.status = accepted.status ?? 'queued';
      this.phase = 'live';
      this.connect();
    } catch (error) {
      if (this.disposed) return;
      this.error = errorText(error);
      this.phase = 'idle';
      this.status = null;
    }
  }

  /** Follows an execution that already exists (the result page, a retry). */
  attach(execution: Execution): void {
    this.reset();
    this.executionId = execution.execution_id;
    if (isTerminal(execution.status)) {
      this.finish(execution);
      return;
    }
    this.status = execution.status;
    this.phase = 'live';
    this.connect();
  }

  async cancel(): Promise<void> {
    const id = this.executionId;
    if (!id || this.phase !== 'live' || this.cancelling) return;
    this.cancelling = true;
    try {
      const execution = await this.api.cancel(id);
      if (this.executionId === id && this.phase === 'live' && isTerminal(execution.status)) this.finish(execution);
    } catch (error) {
      // 409: it finished on its own meanwhile; its result event is on the way.
      if (!(error instanceof ApiError && error.status === 409)) this.error = errorText(error);
    } finally {
      this.cancelling = false;
    }
  }

  /** Applies one Server-Sent Event. Public for tests; the EventSource calls it. */
  handleEvent(type: string, data: string, lastEventId: string): void {
    if (this.phase !== 'live') return;
    if (lastEventId !== '') {
      const sequence = Number(lastEventId);
      if (Number.isFinite(sequence)) {
        if (sequence <= this.lastEventId) return;
        this.lastEventId = sequence;
      }
    }
    let payload: unknown;
    try {
      payload = JSON.parse(data);
    } catch {
      return; // a malformed event is dropped; the final result still comes
    }
    if (payload === null || typeof payload !== 'object') return;
    const fields = payload as Record<string, unknown>;
    switch (type) {
      case 'status': {
        const status = fields.status;
        if (typeof status === 'string' && !isTerminal(this.status)) this.status = status as ExecutionStatus;
        break;
      }
      case 'stdout':
      case 'stderr':
        if (typeof fields.data === 'string') this.append(type, fields.data);
        break;
      case 'result':
        this.finish(payload as Execution);
        break;
    }
  }

  dispose(): void {
    this.disposed = true;
    this.closeSource();
  }

  private reset(): void {
    this.closeSource();
    this.phase = 'idle';
    this.executionId = null;
    this.status = null;
    this.segments = [];
    this.result = null;
    this.error = null;
    this.reconnecting = false;
    this.cancelling = false;
    this.lastEventId = -1;
    this.reconnects = 0;
    this.renderers = { stdout: new AnsiRenderer(), stderr: new AnsiRenderer() };
    this.streamed = { stdout: '', stderr: '' };
  }

  private append(stream: Stream, text: string): void {
    if (text === '') return;
    this.streamed[stream] += text;
    const html = this.renderers[stream].render(text);
    const last = this.segments.at(-1);
    if (last && last.stream === stream) {
      last.text += text;
      last.html += html;
    } else {
      this.segments.push({ stream, text, html });
    }
  }

  private finish(execution: Execution): void {
    this.closeSource();
    this.result = execution;
    this.status = execution.status;
    this.phase = 'done';
    this.reconnecting = false;
    // The record is the truth: if the stream missed or mangled anything (or there was no
    // stream at all), show the stored output instead, stdout first.
    const stdout = execution.stdout ?? '';
    const stderr = execution.stderr ?? '';
    if (this.streamed.stdout !== stdout || this.streamed.stderr !== stderr) {
      this.segments = [];
      this.streamed = { stdout: '', stderr: '' };
      this.renderers = { stdout: new AnsiRenderer(), stderr: new AnsiRenderer() };
      this.append('stdout', stdout);
      this.append('stderr', stderr);
    }
  }

  private connect(): void {
    const id = this.executionId;
    if (!id || this.disposed) return;
    this.closeSource();
    const source = this.openEvents(this.api.eventsUrl(id));
    this.source = source;
    for (const type of ['status', 'stdout', 'stderr', 'result']) {
      source.addEventListener(type, (event: MessageEvent) => {
        if (this.source !== source) return;
        this.handleEvent(type, String(event.data), event.lastEventId ?? '');
      });
    }
    source.onopen = () => {
      if (this.source !== source) return;
      this.reconnecting = false;
      this.reconnects = 0;
    };
    source.onerror = () => {
      if (this.source !== source || this.phase !== 'live') return;
      this.reconnecting = true;
      // CONNECTING: the browser retries by itself and sends Last-Event-ID. CLOSED: it gave
      // up (the server answered an error), so look at the record and maybe reconnect.
      if (source.readyState === kClosed) {
        this.closeSource();
        void this.recover();
      }
    };
  }

  private async recover(): Promise<void> {
    const id = this.executionId;
    if (!id) return;
    try {
      const execution = await this.api.execution(id);
      if (this.executionId !== id || this.phase !== 'live') return;
      if (isTerminal(execution.status)) {
        this.finish(execution);
        return;
      }
      if (!isTerminal(this.status)) this.status = execution.status;
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) {
        this.error = errorText(error);
        this.phase = 'done';
        this.reconnecting = false;
        return;
      }
    }
    if (this.reconnects >= kMaxManualReconnects) {
      this.error = 'Lost the live output stream. Open the result page to see the outcome.';
      this.reconnecting = false;
      return;
    }
    const delay = Math.min(8000, 500 * 2 ** this.reconnects);
    this.reconnects += 1;
    this.reconnectTimer = this.timers.setTimeout(() => {
      this.reconnectTimer = null;
      if (this.executionId === id && this.phase === 'live') this.connect();
    }, delay);
  }

  private closeSource(): void {
    if (this.reconnectTimer !== null) {
      this.timers.clearTimeout(this.reconnectTimer);
      this.reconnectTimer = null;
    }
    if (this.source) {
      const source = this.source;
      this.source = null;
      source.onopen = null;
      source.onerror = null;
      source.close();
    }
  }
}
