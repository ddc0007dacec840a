import { beforeEach, describe, expect, it } from 'vitest';
import { ApiClient } from '../api/client';
import { ExecutionRun } from './execution.svelte';
import { FakeEventSource, ManualTimers, execution, fakeFetch, flush, json, problem, type Handler } from '../../test/fakes';

function setup(handler: Handler) {
  const fake = fakeFetch(handler);
  const api = new ApiClient({ fetchImpl: fake.fetch, cookies: () => '' });
  const timers = new ManualTimers();
  const run = new ExecutionRun(api, (url) => new FakeEventSource(url), timers);
  return { run, calls: fake.calls, timers };
}

const request = { script: "print('hi')", lang: 'python', lang_version: '3.11' };
const accepted = () => json(202, { execution_id: 'e-1', status: 'queued' });

beforeEach(() => {
  FakeEventSource.instances = [];
});

describe('ExecutionRun', () => {
  it('goes idle → submitting → live (queued → running) → done, streaming output in order', async () => {
    const { run } = setup(accepted);
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
    expect(run.segments.map((s) => [s.stream, s.text])).toEqual([
      ['stdout', 'one\n'],
      ['stderr', 'warn\n'],
      ['stdout', 'two\nthree\n'],
    ]);

    source.emit('result', execution({ stdout: 'one\ntwo\nthree\n', stderr: 'warn\n' }), 6);
    expect(run.phase).toBe('done');
    expect(run.status).toBe('completed');
    expect(run.result?.exit_code).toBe(0);
    expect(source.closed).toBe(true);
    // The stream matched the record, so the interleaving is kept.
    expect(run.segments).toHaveLength(3);
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
    const { run } = setup(accepted);
    await run.start(request);
    const source = FakeEventSource.instances[0]!;
    source.emit('stdout', { data: 'partial' }, 1);
    source.emit('result', execution({ stdout: 'full output\n', stderr: 'oops\n' }), 5);
    expect(run.segments.map((s) => [s.stream, s.text])).toEqual([
      ['stdout', 'full output\n'],
      ['stderr', 'oops\n'],
    ]);
  });

  it('renders ANSI colours and escapes HTML in program output', async () => {
    const { run } = setup(accepted);
    await run.start(request);
    const source = FakeEventSource.instances[0]!;
    source.emit('stdout', { data: '\x1b[31mred\x1b[0m <script>alert(1)</script> &' }, 1);
    const html = run.segments[0]!.html;
    expect(html).toContain('<span class="ansi-red-fg">red</span>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp;');
    expect(html).not.toContain('<script>');
  });

  it('keeps a colour that spans two chunks', async () => {
    const { run } = setup(accepted);
    await run.start(request);
    const source = FakeEventSource.instances[0]!;
    source.emit('stdout', { data: '\x1b[32mgre' }, 1);
    source.emit('stdout', { data: 'en\x1b[0m' }, 2);
    expect(run.segments[0]!.html).toBe('<span class="ansi-green-fg">gre</span><span class="ansi-green-fg">en</span>');
  });

  it('reports a refused submission as a readable error and stays idle', async () => {
    const { run } = setup(() => problem(429, 'rate_limited', 'slow down', { 'Retry-After': '12' }));
    await run.start(request);
    expect(run.phase).toBe('idle');
    expect(run.error).toBe('Too many requests — try again in 12 s');
    expect(FakeEventSource.instances).toHaveLength(0);
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
    const { run, calls } = setup((call) =>
      call.method === 'GET' ? json(200, execution({ stdout: 'done\n', status: 'completed' })) : accepted(),
    );
    await run.start(request);
    FakeEventSource.instances[0]!.fail(true);
    await flush();
    expect(calls.at(-1)?.url).toBe('/api/v1/executions/e-1');
    expect(run.phase).toBe('done');
    expect(run.stdout).toBe('done\n');
  });

  it('after the browser gives up on a running execution, reconnects with backoff and dedupes', async () => {
    const { run, timers } = setup((call) =>
      call.method === 'GET' ? json(200, execution({ status: 'running', resource_usage: null })) : accepted(),
    );
    await run.start(request);
    const first = FakeEventSource.instances[0]!;
    first.emit('stdout', { data: 'x' }, 1);
    first.fail(true);
    await flush();
    expect(timers.pending()).toEqual([500]);
    timers.advance(500);
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
    const { run } = setup(accepted);
    await run.start(request);
    FakeEventSource.instances[0]!.emit('result', execution({ stdout: 'old' }), 1);
    await run.start(request);
    expect(run.segments).toEqual([]);
    expect(run.result).toBeNull();
    expect(run.lastEventId).toBe(-1);
    expect(run.phase).toBe('live');
  });
});
