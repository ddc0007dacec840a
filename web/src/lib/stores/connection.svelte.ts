/** Timers as an interface, so tests can drive time by hand. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const kRealTimers: Timers = {
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export const kFirstRetryMs = 1000;
export const kMaxRetryMs = 30_000;

/**
 * Tracks whether the server is reachable. Any API failure that means "server down"
 * (network error, 5xx) calls report(); the monitor then probes the server with exponential
 * backoff until a probe succeeds, and tells the listeners so they can reload what failed.
 * Single-threaded (browser event loop).
 */
export class ConnectionMonitor {
  down = $state(false);
  /** Seconds until the next probe, for the banner's countdown. */
  secondsToRetry = $state(0);
  checking = $state(false);

  private attempt = 0;
  private timer: unknown = null;
  private tick: unknown = null;
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly probe: () => Promise<boolean>,
    private readonly timers: Timers = kRealTimers,
  ) {}

  report(): void {
    if (this.down) return;
    this.down = true;
    this.attempt = 0;
    this.schedule();
  }

  /** Registers a callback run once each time the server comes back. Returns an unsubscribe. */
  onRecover(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The delay before probe number `attempt` (0-based): 1 s, 2 s, 4 s, … capped at 30 s. */
  static delayMs(attempt: number): number {
    return Math.min(kMaxRetryMs, kFirstRetryMs * 2 ** attempt);
  }

  retryNow(): void {
    if (!this.down || this.checking) return;
    this.clearTimers();
    void this.check();
  }

  dispose(): void {
    this.clearTimers();
    this.listeners.clear();
  }

  private schedule(): void {
    this.clearTimers();
    const delay = ConnectionMonitor.delayMs(this.attempt);
    this.secondsToRetry = Math.ceil(delay / 1000);
    this.timer = this.timers.setTimeout(() => {
      this.timer = null;
      void this.check();
    }, delay);
    this.countdown();
  }

  private countdown(): void {
    this.tick = this.timers.setTimeout(() => {
      this.tick = null;
      if (this.secondsToRetry > 1) {
        this.secondsToRetry -= 1;
        this.countdown();
      }
    }, 1000);
  }

  private async check(): Promise<void> {
    this.clearTimers();
    this.checking = true;
    let ok = false;
    try {
      ok = await this.probe();
    } catch {
      ok = false;
    }
    this.checking = false;
    if (!this.down) return;
    if (ok) {
      this.down = false;
      this.attempt = 0;
      for (const listener of [...this.listeners]) listener();
    } else {
      this.attempt += 1;
      this.schedule();
    }
  }

  private clearTimers(): void {
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    if (this.tick !== null) this.timers.clearTimeout(this.tick);
    this.timer = null;
    this.tick = null;
  }
}
