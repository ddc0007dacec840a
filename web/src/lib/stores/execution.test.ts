import { beforeEach, describe, expect, it } from 'vitest';
import { ApiClient } from '../api/client';
import { ExecutionRun } from './execution.svelte';
import type { Piece } from '../output/feed';
import { FakeEventSource, ManualFrames, ManualTimers, execution, fakeFetch, flush, json, problem, type Handler } from '../../test/fakes';

function setup(handler: Handler) {
  const fake = fakeFetch(handler);
  const api = new ApiClient({ fetchImpl: fake.fetch, cookies: () => '' });
  const timers = new ManualTimers();
  const frames = new ManualFrames();
  const run = new ExecutionRun(api, (url) => new FakeEventSource(url), timers, frames);
  // What a view subscribed to the run's output holds.
  let view: Piece[] = [];
  run.output.subscribe((event) => {
    if (event.kind === 'reset') view = [];
    else view = [...view.slice(event.dropFront), ...event.pieces];
  });
  const shown = () => view.map((p) => [p.stream, p.html] as const);
  return { run, calls: fake.calls, timers, frames, shown };
}

const request = { script: "print('hi')", lang: 'python', lang_version: '3.11' };
const accepted = () => json(202, { execution_id: 'e-1', status: 'queued' });

beforeEach(() => {
  FakeEventSource.instances = [];
});

describe('ExecutionRun', () => {
  it('goes idle → submitting → live (queued → running) → done, streaming output in order', async () => {
    const { run, frames, shown } = setup(accepted);
    expect(run.phase).toBe('idle');
    const started = run.start(request);
    expect(run.phase).toBe('submitting');
    await started;
    expect(run.phase).toBe('live');
    expect(run.status).toBe('queued');
    expect(run.executionId).toBe('e-1');

    const source = FakeEventSource.instances[0]!;
    expect(source.url).toBe('/api/v1/executions/e-1/events');
    source.open();
    source.emit('status', { status: 'running' }, 1);
    expect(run.status).toBe('running');
    source.emit('stdout', { data: 'one\n' }, 2);
    source.emit('stderr', { data: 'warn\n' }, 3);
    source.emit('stdout', { data: 'two\n' }, 4);
    source.emit('stdout', { data: 'three\n' }, 5);
    // Nothing reaches the view before the next animation frame, then all of it at once.
    expect(shown()).toEqual([]);
    expect(frames.requested).toBe(1);
    frames.tick();
    expect(shown()).toEqual([
      ['stdout', 'one\n'],
      ['stderr', 'warn\n'],
      ['stdout', 'two\nthree\n'],
    ]);
    expect(run.hasOutput).toBe(true);

    source.emit('result', execution({ stdout: 'one\ntwo\nthree\n', stderr: 'warn\n' }), 6);
    expect(run.phase).toBe('done');
    expect(run.status).toBe('completed');
    expect(run.result?.exit_code).toBe(0);
    expect(source.closed).toBe(true);
    // The stream matched the record, so the interleaving is kept.
    expect(shown()).toHaveLength(3);
  });

  it('never lets a late status event move a finished run backwards', async () => {
    const { run } = setup(accepted);
    await run.start(request);
    const source = FakeEventSource.instances[0]!;
    source.emit('result', execution({ status: 'failed', exit_code: 1 }), 1);
    source.emit('status', { status: 'running' }, 2);
    expect(run.status).toBe('failed');
  });

  it('drops events it has already seen (a reconnect replaying from the start)', async () => {
    const { run } = setup(accepted);
    await run.start(request);
    const source = FakeEventSource.instances[0]!;
    source.emit('stdout', { data: 'a' }, 1);
    source.emit('stdout', { data: 'b' }, 2);
    source.emit('stdout', { data: 'a' }, 1);
    source.emit('stdout', { data: 'b' }, 2);
    source.emit('stdout', { data: 'c' }, 3);
    expect(run.stdout).toBe('abc');
    expect(run.lastEventId).toBe(3);
  });

  it('shows the stored output when the stream disagrees with the record', async () => {
    const { run, shown } = setup(accepted);
    await run.start(request);
    const source = FakeEventSource.instances[0]!;
    source.emit('stdout', { data: 'partial' }, 1);
    source.emit('result', execution({ stdout: 'full output\n', stderr: 'oops\n' }), 5);
    // The result shows at once, not a frame later.
    expect(shown()).toEqual([
      ['stdout', 'full output\n'],
      ['stderr', 'oops\n'],
    ]);
  });

  it('renders ANSI colours and escapes HTML in program output', async () => {
    const { run, frames, shown } = setup(accepted);
    await run.start(request);
    const source = FakeEventSource.instances[0]!;
    source.emit('stdout', { data: '\x1b[31mred\x1b[0m <script>alert(1)</script> &' }, 1);
    frames.tick();
    const html = shown()[0]![1];
    expect(html).toContain('<span class="ansi-red-fg">red</span>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp;');
    expect(html).not.toContain('<script>');
  });

  it('keeps a colour that spans two chunks', async () => {
    const { run, frames, shown } = setup(accepted);
    await run.start(request);
    const source = FakeEventSource.instances[0]!;
    source.emit('stdout', { data: '\x1b[32mgre' }, 1);
    frames.tick();
    source.emit('stdout', { data: 'en\x1b[0m' }, 2);
    frames.tick();
    expect(shown().map((p) => p[1]).join('')).toBe('<span class="ansi-green-fg">gre</span><span class="ansi-green-fg">en</span>');
  });

  it('reports a refused submission as a readable refusal and stays idle', async () => {
    const { run } = setup(() => problem(429, 'rate_limited', 'slow down', { 'Retry-After': '12' }));
    await run.start(request);
    expect(run.phase).toBe('idle');
    expect(run.refusal).toBe('Too many requests — try again in 12 s');
    expect(FakeEventSource.instances).toHaveLength(0);
  });

  it('keeps the last result when the next submission is refused, and says why beside it', async () => {
    let refuse = false;
    const { run, shown } = setup(() => (refuse ? problem(429, 'rate_limited', 'slow down', { 'Retry-After': '3' }) : accepted()));
    await run.start(request);
    FakeEventSource.instances[0]!.emit('result', execution({ stdout: 'kept\n' }), 1);
    refuse = true;
    await run.start(request);
    expect(run.phase).toBe('done');
    expect(run.status).toBe('completed');
    expect(run.result?.stdout).toBe('kept\n');
    expect(shown()).toEqual([['stdout', 'kept\n']]);
    expect(run.refusal).toBe('Too many requests — try again in 3 s');
    // The next accepted run clears the refusal.
    refuse = false;
    await run.start(request);
    expect(run.refusal).toBeNull();
    expect(shown()).toEqual([]);
  });

  it('clears a stale "cannot reach the server" refusal when the server is back', async () => {
    const { run } = setup(() => Promise.reject(new TypeError('Failed to fetch')));
    await run.start(request);
    expect(run.refusal).toMatch(/Cannot reach the server/);
    run.serverRecovered();
    expect(run.refusal).toBeNull();
  });

  it('cancels: the answer of POST /cancel ends the run', async () => {
    const { run, calls } = setup((call) =>
      call.url.endsWith('/cancel') ? json(200, execution({ status: 'cancelled', exit_code: null, message: 'cancelled on request' })) : accepted(),
    );
    await run.start(request);
    await run.cancel();
    expect(calls[1]?.url).toBe('/api/v1/executions/e-1/cancel');
    expect(calls[1]?.method).toBe('POST');
    expect(run.phase).toBe('done');
    expect(run.status).toBe('cancelled');
    expect(FakeEventSource.instances[0]!.closed).toBe(true);
  });

  it('treats 409 on cancel as "already finished" and waits for the result event', async () => {
    const { run } = setup((call) => (call.url.endsWith('/cancel') ? problem(409, 'conflict', 'already finished') : accepted()));
    await run.start(request);
    await run.cancel();
    expect(run.error).toBeNull();
    expect(run.phase).toBe('live');
    FakeEventSource.instances[0]!.emit('result', execution(), 3);
    expect(run.phase).toBe('done');
  });

  it('leaves a dropped connection to the browser while it reconnects by itself', async () => {
    const { run } = setup(accepted);
    await run.start(request);
    const source = FakeEventSource.instances[0]!;
    source.fail(false);
    expect(run.reconnecting).toBe(true);
    expect(FakeEventSource.instances).toHaveLength(1);
    source.open();
    expect(run.reconnecting).toBe(false);
  });

  it('after the browser gives up, fetches the record: a finished run shows its result', async () => {
    const { run, calls, timers } = setup((call) =>
      call.method === 'GET' ? json(200, execution({ stdout: 'done\n', status: 'completed' })) : accepted(),
    );
    await run.start(request);
    FakeEventSource.instances[0]!.fail(true);
    timers.advance(0);
    await flush();
    expect(calls.at(-1)?.url).toBe('/api/v1/executions/e-1');
    expect(run.phase).toBe('done');
    expect(run.stdout).toBe('done\n');
  });

  it('after the browser gives up on a running execution, reconnects and dedupes', async () => {
    const { run, timers } = setup((call) =>
      call.method === 'GET' ? json(200, execution({ status: 'running', resource_usage: null })) : accepted(),
    );
    await run.start(request);
    const first = FakeEventSource.instances[0]!;
    first.emit('stdout', { data: 'x' }, 1);
    first.fail(true);
    timers.advance(0);
    await flush();
    const second = FakeEventSource.instances[1]!;
    expect(second).toBeDefined();
    second.emit('stdout', { data: 'x' }, 1);
    second.emit('stdout', { data: 'y' }, 2);
    // Events from the abandoned connection are ignored.
    first.emit('stdout', { data: 'zombie' }, 3);
    expect(run.stdout).toBe('xy');
  });

  it('attaches to an execution that already finished without opening a stream', () => {
    const { run } = setup(accepted);
    run.attach(execution({ status: 'timed_out', stdout: 'tick\n', message: 'stopped after the 5 s time limit' }));
    expect(run.phase).toBe('done');
    expect(run.status).toBe('timed_out');
    expect(run.stdout).toBe('tick\n');
    expect(FakeEventSource.instances).toHaveLength(0);
  });

  it('a new start forgets the previous run', async () => {
    const { run, shown } = setup(accepted);
    await run.start(request);
    FakeEventSource.instances[0]!.emit('result', execution({ stdout: 'old' }), 1);
    await run.start(request);
    expect(shown()).toEqual([]);
    expect(run.result).toBeNull();
    expect(run.lastEventId).toBe(-1);
    expect(run.phase).toBe('live');
  });

  it('polls the record while the browser retries a dead stream, and says so when the server is gone', async () => {
    let down = false;
    const { run, calls, timers } = setup((call) => {
      if (call.method === 'POST') return accepted();
      if (down) return Promise.reject(new TypeError('Failed to fetch'));
      return json(200, execution({ status: 'completed', stdout: 'late\n' }));
    });
    await run.start(request);
    const source = FakeEventSource.instances[0]!;
    down = true;
    source.fail(false); // the browser keeps retrying by itself: CONNECTING
    expect(run.reconnecting).toBe(true);
    timers.advance(0);
    await flush();
    expect(calls.at(-1)?.url).toBe('/api/v1/executions/e-1');
    expect(run.streamLost).toBe(true);
    expect(run.phase).toBe('live');
    // Backoff: 1 s, then 2 s.
    expect(timers.pending()).toEqual([1000]);
    timers.advance(1000);
    await flush();
    expect(timers.pending()).toEqual([2000]);
    // The server is back with the finished record.
    down = false;
    run.serverRecovered();
    await flush();
    expect(run.phase).toBe('done');
    expect(run.streamLost).toBe(false);
    expect(run.stdout).toBe('late\n');
    expect(timers.pending()).toEqual([]);
  });

  it('stops polling once the stream is open again', async () => {
    const { run, timers } = setup((call) =>
      call.method === 'GET' ? json(200, execution({ status: 'running', resource_usage: null })) : accepted(),
    );
    await run.start(request);
    const source = FakeEventSource.instances[0]!;
    source.fail(false);
    timers.advance(0);
    await flush();
    expect(timers.pending()).toEqual([1000]);
    source.open();
    expect(run.reconnecting).toBe(false);
    expect(timers.pending()).toEqual([]);
  });
});
