import { AnsiRenderer } from '../ansi';

export type Stream = 'stdout' | 'stderr';

/** A run of output from one stream, rendered; `html` is escaped and safe to inject. */
export interface Piece {
  stream: Stream;
  html: string;
  /** Newlines in the piece: the live view caps itself by lines. */
  lines: number;
}

/**
 * What the view does: empty itself, or drop its first `dropFront` pieces and add `pieces`
 * at the end.
 */
export type FeedEvent = { kind: 'reset' } | { kind: 'append'; dropFront: number; pieces: Piece[] };

/** When to flush: the browser's next animation frame; tests flush by hand. */
export interface FrameScheduler {
  request(callback: () => void): unknown;
  cancel(handle: unknown): void;
}

export const kAnimationFrames: FrameScheduler = {
  request: (callback) =>
    typeof requestAnimationFrame === 'function' ? requestAnimationFrame(() => callback()) : setTimeout(callback, 16),
  cancel: (handle) => {
    if (typeof cancelAnimationFrame === 'function') cancelAnimationFrame(handle as number);
    else clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};

/** A piece holds at most this many lines, so the live view can drop old output in steps. */
export const kPieceLines = 200;
/**
 * The live view keeps about the last this many lines; the rest is a click away. Every frame
 * that adds output lays the view out again, so its size bounds the cost of a frame.
 */
export const kLiveLines = 2000;

function countLines(text: string): number {
  let count = 0;
  for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) count += 1;
  return count;
}

/** Splits after every `size`-th newline. */
export function splitLines(text: string, size: number): string[] {
  const parts: string[] = [];
  let start = 0;
  let seen = 0;
  for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) {
    seen += 1;
    if (seen === size) {
      parts.push(text.slice(start, at + 1));
      start = at + 1;
      seen = 0;
    }
  }
  if (start < text.length) parts.push(text.slice(start));
  return parts;
}

/**
 * A run's output as it arrives: chunks are kept as text at once (for copy, download and
 * the comparison with the final record) but rendered and handed to the view at most once
 * per animation frame, in pieces of a bounded number of lines. A program printing
 * thousands of tiny chunks then costs the page one render and one DOM append per frame,
 * never a layout per chunk. The view holds only the last `maxLines` (or a few more) lines;
 * `hiddenLines` says how many came before them. Single-threaded.
 */
export class OutputFeed {
  private text: Record<Stream, string> = { stdout: '', stderr: '' };
  private renderers: Record<Stream, AnsiRenderer> = { stdout: new AnsiRenderer(), stderr: new AnsiRenderer() };
  private pending: { stream: Stream; text: string }[] = [];
  private frame: unknown = null;
  private readonly listeners = new Set<(event: FeedEvent) => void>();
  private totalLines = 0;
  private window: Piece[] = [];
  private windowLines = 0;
  private hidden = 0;

  constructor(
    private readonly frames: FrameScheduler = kAnimationFrames,
    /** Called after each flush (the store updates its reactive counters there). */
    private readonly onFlush: () => void = () => {},
    private readonly maxLines: number = kLiveLines,
  ) {}

  /** Lines no longer in the live view (the oldest ones). */
  get hiddenLines(): number {
    return this.hidden;
  }

  get stdout(): string {
    return this.text.stdout;
  }

  get stderr(): string {
    return this.text.stderr;
  }

  get empty(): boolean {
    return this.text.stdout === '' && this.text.stderr === '';
  }

  /** Lines handed to the view so far. */
  get lines(): number {
    return this.totalLines;
  }

  /** The view listens: it gets what is in the live view now, then every change. */
  subscribe(listener: (event: FeedEvent) => void): () => void {
    this.listeners.add(listener);
    listener({ kind: 'reset' });
    if (this.window.length > 0) listener({ kind: 'append', dropFront: 0, pieces: [...this.window] });
    return () => this.listeners.delete(listener);
  }

  append(stream: Stream, text: string): void {
    if (text === '') return;
    this.text[stream] += text;
    const last = this.pending.at(-1);
    if (last && last.stream === stream) last.text += text;
    else this.pending.push({ stream, text });
    if (this.frame === null) {
      this.frame = this.frames.request(() => {
        this.frame = null;
        this.flush();
      });
    }
  }

  /** Renders and hands over what is pending now (also run by the frame callback). */
  flush(): void {
    if (this.frame !== null) {
      this.frames.cancel(this.frame);
      this.frame = null;
    }
    if (this.pending.length === 0) return;
    const pieces: Piece[] = [];
    for (const { stream, text } of this.pending) {
      for (const part of splitLines(text, kPieceLines)) {
        const lines = countLines(part);
        this.totalLines += lines;
        pieces.push({ stream, html: this.renderers[stream].render(part), lines });
      }
    }
    this.pending = [];
    const before = this.window.length;
    for (const piece of pieces) {
      this.window.push(piece);
      this.windowLines += piece.lines;
    }
    let dropped = 0;
    while (this.window.length > 1 && this.windowLines - this.window[0]!.lines >= this.maxLines) {
      const first = this.window.shift()!;
      this.windowLines -= first.lines;
      this.hidden += first.lines;
      dropped += 1;
    }
    // New pieces that fell out at once never reach the DOM.
    const dropFront = Math.min(dropped, before);
    this.emit({ kind: 'append', dropFront, pieces: pieces.slice(dropped - dropFront) });
    this.onFlush();
  }

  /** Forgets everything; the view empties itself. */
  reset(): void {
    if (this.frame !== null) this.frames.cancel(this.frame);
    this.frame = null;
    this.pending = [];
    this.text = { stdout: '', stderr: '' };
    this.renderers = { stdout: new AnsiRenderer(), stderr: new AnsiRenderer() };
    this.totalLines = 0;
    this.window = [];
    this.windowLines = 0;
    this.hidden = 0;
    this.emit({ kind: 'reset' });
    this.onFlush();
  }

  private emit(event: FeedEvent): void {
    for (const listener of [...this.listeners]) listener(event);
  }
}
