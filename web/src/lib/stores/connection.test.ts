import { describe, expect, it, vi } from 'vitest';
import { ConnectionMonitor } from './connection.svelte';
import { ManualTimers, flush } from '../../test/fakes';

describe('ConnectionMonitor', () => {
  it('backs off 1, 2, 4 … 30 s', () => {
    expect([0, 1, 2, 3, 4, 5, 6].map((n) => ConnectionMonitor.delayMs(n))).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000]);
  });

  it('probes with backoff while down and tells listeners when the server is back', async () => {
    const timers = new ManualTimers();
    const answers = [false, false, true];
    const probe = vi.fn(async () => answers.shift() ?? true);
    const monitor = new ConnectionMonitor(probe, timers);
    const recovered = vi.fn();
    monitor.onRecover(recovered);

    monitor.report();
    monitor.report(); // a second failure while down changes nothing
    expect(monitor.down).toBe(true);
    expect(monitor.secondsToRetry).toBe(1);

    timers.advance(1000);
    await flush();
    expect(probe).toHaveBeenCalledTimes(1);
    expect(monitor.down).toBe(true);
    expect(monitor.secondsToRetry).toBe(2);

    timers.advance(1000);
    expect(monitor.secondsToRetry).toBe(1); // the countdown ticks each second
    timers.advance(1000);
    await flush();
    expect(probe).toHaveBeenCalledTimes(2);
    expect(monitor.secondsToRetry).toBe(4);

    timers.advance(4000);
    await flush();
    expect(probe).toHaveBeenCalledTimes(3);
    expect(monitor.down).toBe(false);
    expect(recovered).toHaveBeenCalledTimes(1);
    expect(timers.pending()).toEqual([]);
  });

  it('retries at once on request', async () => {
    const timers = new ManualTimers();
    const monitor = new ConnectionMonitor(async () => true, timers);
    monitor.report();
    monitor.retryNow();
    await flush();
    expect(monitor.down).toBe(false);
    expect(timers.pending()).toEqual([]);
  });

  it('counts a throwing probe as still down', async () => {
    const timers = new ManualTimers();
    const monitor = new ConnectionMonitor(async () => {
      throw new Error('boom');
    }, timers);
    monitor.report();
    timers.advance(1000);
    await flush();
    expect(monitor.down).toBe(true);
  });
});
