import type { ApiClient } from '../api/client';
import { ApiError, errorText } from '../api/errors';
import type { ExecuteRequest, Execution, ExecutionStatus } from '../api/types';
import { isTerminal } from '../api/types';
import { kAnimationFrames, OutputFeed, type FrameScheduler, type Stream } from '../output/feed';
import type { Timers } from './connection.svelte';

export type { Stream } from '../output/feed';

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
const kFirstPollMs = 1000;
const kMaxPollMs = 8000;

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
 * A submission that is refused (rate limit, network down, too large) leaves the previous
 * run on screen and sets `refusal` beside it.
 *
 * Events carry a sequence number; anything at or below the last one seen is dropped, which
 * makes a reconnect (the browser's own, with Last-Event-ID, or ours after the stream was
 * closed, which replays from the start) show every chunk exactly once. As soon as the
 * stream fails, the record is polled (with backoff) until the run ends or the stream is
 * back: a server that went away cannot leave the run "reconnecting" forever, and a poll
 * that cannot reach the server reports it, which shows the server banner. Output goes
 * through an OutputFeed (rendered once per animation frame). Single-threaded.
 */
export class ExecutionRun {
  phase = $state<Phase>('idle');
  executionId = $state<string | null>(null);
  status = $state<ExecutionStatus | null>(null);
  result = $state<Execution | null>(null);
  /** Why the run could not be followed or cancelled: a sentence for the user. */
  error = $state<string | null>(null);
  /** Why the last submission was refused; the previous run stays on screen beside it. */
  refusal = $state<string | null>(null);
  refusalIsNetwork = false;
  /** The stream dropped and is being re-established. */
  reconnecting = $state(false);
  /** The stream failed and the server cannot be reached either: the result comes by polling. */
  streamLost = $state(false);
  cancelling = $state(false);
  /** Reactive mirrors of the feed, updated once per rendered frame. */
  hasOutput = $state(false);
  hiddenLines = $state(0);

  lastEventId = -1;
  readonly output: OutputFeed;
  private source: EventSourceLike | null = null;
  private polls = 0;
  private pollTimer: unknown = null;
  private disposed = false;

  constructor(
    private readonly api: ApiClient,
    private readonly openEvents: EventSourceFactory,
    private readonly timers: Timers = kRealTimers,
    frames: FrameScheduler = kAnimationFrames,
  ) {
    this.output = new OutputFeed(frames, () => {
      this.hasOutput = !this.output.empty;
      this.hiddenLines = this.output.hiddenLines;
    });
  }

  get active(): boolean {
    return this.phase === 'submitting' || this.phase === 'live';
  }

  get stdout(): string {
    return this.output.stdout;
  }

  get stderr(): string {
    return this.output.stderr;
  }

  /**
   * Submits the code and follows it. Resolves once submitted (or refused). A refusal keeps
   * what is on screen and says why in `refusal`.
   */
  async start(request: ExecuteRequest): Promise<void> {
    if (this.active) return;
    const previous = this.phase;
    this.phase = 'submitting';
    this.refusal = null;
    try {
      const accepted = await this.api.execute(request);
      if (this.disposed) return;
      this.reset();
      this.executionId = accepted.execution_id;
      this.status = accepted.status ?? 'queued';
      this.phase = 'live';
      this.connect();
    } catch (error) {
      if (this.disposed) return;
      this.refusal = errorText(error);
      this.refusalIsNetwork = error instanceof ApiError && error.kind === 'network';
      this.phase = previous === 'submitting' ? 'idle' : previous;
    }
  }

  /** The server is back: a "cannot reach the server" refusal is stale; a lost run is polled now. */
  serverRecovered(): void {
    if (this.refusal !== null && this.refusalIsNetwork) this.refusal = null;
    if (this.phase === 'live' && this.pollTimer !== null) {
      this.clearPoll();
      void this.poll();
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
    this.clearPoll();
  }

  /** Empties the output view (the toolbar's Clear); the run and its result stay. */
  clearOutput(): void {
    this.output.reset();
  }

  private reset(): void {
    this.closeSource();
    this.clearPoll();
    this.phase = 'idle';
    this.executionId = null;
    this.status = null;
    this.result = null;
    this.error = null;
    this.refusal = null;
    this.reconnecting = false;
    this.streamLost = false;
    this.cancelling = false;
    this.lastEventId = -1;
    this.polls = 0;
    this.output.reset();
  }

  private append(stream: Stream, text: string): void {
    this.output.append(stream, text);
  }

  private finish(execution: Execution): void {
    this.closeSource();
    this.clearPoll();
    this.result = execution;
    this.status = execution.status;
    this.phase = 'done';
    this.reconnecting = false;
    this.streamLost = false;
    // The record is the truth: if the stream missed or mangled anything (or there was no
    // stream at all), show the stored output instead, stdout first.
    const stdout = execution.stdout ?? '';
    const stderr = execution.stderr ?? '';
    if (this.output.stdout !== stdout || this.output.stderr !== stderr) {
      this.output.reset();
      this.append('stdout', stdout);
      this.append('stderr', stderr);
    }
    // The end of the output shows with the result, not a frame later.
    this.output.flush();
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
      this.streamLost = false;
      this.clearPoll();
    };
    source.onerror = () => {
      if (this.source !== source || this.phase !== 'live') return;
      this.reconnecting = true;
      // CONNECTING: the browser retries by itself (with Last-Event-ID). CLOSED: it gave up
      // (the server answered an error). Either way the record is polled until the run ends
      // or the stream is back, so a server that is gone cannot leave the run hanging.
      if (source.readyState === kClosed) this.closeSource();
      if (this.pollTimer === null) this.schedulePoll(0);
    };
  }

  private schedulePoll(delay: number): void {
    const id = this.executionId;
    if (this.pollTimer !== null) this.timers.clearTimeout(this.pollTimer);
    this.pollTimer = this.timers.setTimeout(() => {
      this.pollTimer = null;
      if (this.executionId === id && this.phase === 'live') void this.poll();
    }, delay);
  }

  private async poll(): Promise<void> {
    const id = this.executionId;
    if (!id) return;
    try {
      const execution = await this.api.execution(id);
      if (this.executionId !== id || this.phase !== 'live') return;
      this.streamLost = false;
      if (isTerminal(execution.status)) {
        this.finish(execution);
        return;
      }
      if (!isTerminal(this.status)) this.status = execution.status;
      // The server answers: a stream the browser gave up on is opened again (it replays
      // from the start; the sequence numbers drop what was seen).
      if (this.source === null) this.connect();
    } catch (error) {
      if (this.executionId !== id || this.phase !== 'live') return;
      if (error instanceof ApiError && error.status === 404) {
        this.error = errorText(error);
        this.phase = 'done';
        this.reconnecting = false;
        return;
      }
      // The API client has reported the outage (the banner shows); say what happens here.
      this.streamLost = true;
    }
    if (!this.reconnecting && this.source !== null) return; // the stream is back
    const delay = Math.min(kMaxPollMs, kFirstPollMs * 2 ** this.polls);
    this.polls += 1;
    this.schedulePoll(delay);
  }

  private clearPoll(): void {
    if (this.pollTimer !== null) {
      this.timers.clearTimeout(this.pollTimer);
      this.pollTimer = null;
    }
    this.polls = 0;
  }

  private closeSource(): void {
    if (this.source) {
      const source = this.source;
      this.source = null;
      source.onopen = null;
      source.onerror = null;
      source.close();
    }
  }
}
