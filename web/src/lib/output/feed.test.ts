import { describe, expect, it } from 'vitest';
import { OutputFeed, splitLines, type FeedEvent } from './feed';
import { OutputView } from './view';
import { ManualFrames } from '../../test/fakes';

describe('OutputFeed', () => {
  it('renders many chunks in one batch per frame', () => {
    const frames = new ManualFrames();
    const feed = new OutputFeed(frames);
    const events: FeedEvent[] = [];
    feed.subscribe((event) => events.push(event));
    events.length = 0;
    for (let i = 0; i < 1000; i++) feed.append('stdout', `line ${i}\n`);
    expect(frames.requested).toBe(1);
    expect(events).toEqual([]);
    frames.tick();
    expect(events).toHaveLength(1);
    const first = events[0]!;
    expect(first.kind).toBe('append');
    if (first.kind !== 'append') return;
    // 1,000 lines in pieces of at most 200.
    expect(first.pieces.map((p) => p.lines)).toEqual([200, 200, 200, 200, 200]);
    expect(feed.stdout.split('\n')).toHaveLength(1001);
  });

  it('keeps about the last maxLines lines in view and counts the rest as hidden', () => {
    const frames = new ManualFrames();
    const feed = new OutputFeed(frames, () => {}, 1000);
    let view: string[] = [];
    feed.subscribe((event) => {
      if (event.kind === 'reset') view = [];
      else view = [...view.slice(event.dropFront), ...event.pieces.map((p) => p.html)];
    });
    for (let batch = 0; batch < 10; batch++) {
      for (let i = 0; i < 500; i++) feed.append('stdout', `${batch * 500 + i}\n`);
      frames.tick();
    }
    const shown = view.join('').split('\n').filter(Boolean);
    expect(shown.at(-1)).toBe('4999');
    expect(shown.length).toBeGreaterThanOrEqual(1000);
    expect(shown.length).toBeLessThan(1200);
    expect(feed.hiddenLines + shown.length).toBe(5000);
    // The first line shown follows the last one hidden.
    expect(Number(shown[0])).toBe(feed.hiddenLines);
  });

  it('never hands the view pieces that a single large batch drops at once', () => {
    const frames = new ManualFrames();
    const feed = new OutputFeed(frames, () => {}, 400);
    const appended: number[] = [];
    feed.subscribe((event) => {
      if (event.kind === 'append') appended.push(event.pieces.length);
    });
    feed.append('stdout', 'x\n'.repeat(10_000));
    frames.tick();
    expect(appended.at(-1)).toBeLessThanOrEqual(3);
    expect(feed.hiddenLines).toBeGreaterThanOrEqual(10_000 - 600);
  });

  it('replays its window to a view that subscribes late', () => {
    const frames = new ManualFrames();
    const feed = new OutputFeed(frames);
    feed.append('stderr', 'boom\n');
    feed.flush();
    const events: FeedEvent[] = [];
    feed.subscribe((event) => events.push(event));
    expect(events.map((e) => e.kind)).toEqual(['reset', 'append']);
  });

  it('splits after every n-th newline', () => {
    expect(splitLines('a\nb\nc\nd', 2)).toEqual(['a\nb\n', 'c\nd']);
    expect(splitLines('a\nb\n', 2)).toEqual(['a\nb\n']);
    expect(splitLines('', 2)).toEqual([]);
  });
});

describe('OutputView', () => {
  it('appends spans per stream, removes dropped ones, and follows the bottom', () => {
    const frames = new ManualFrames();
    const feed = new OutputFeed(frames, () => {}, 300);
    const scroller = document.createElement('pre');
    const target = document.createElement('span');
    scroller.append(target);
    const view = new OutputView(target, feed, scroller);
    feed.append('stdout', 'out\n');
    feed.append('stderr', '<err>\n');
    frames.tick();
    expect([...target.children].map((c) => [c.className, c.textContent])).toEqual([
      ['stdout', 'out\n'],
      ['stderr', '<err>\n'],
    ]);
    const first = target.firstChild;
    feed.append('stdout', 'y\n'.repeat(600));
    frames.tick();
    expect(target.contains(first)).toBe(false);
    expect(target.textContent?.endsWith('y\n')).toBe(true);
    feed.reset();
    expect(target.childElementCount).toBe(0);
    view.destroy();
  });
});
