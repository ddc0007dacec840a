import type { FeedEvent, OutputFeed, Piece } from './feed';

/**
 * Shows an OutputFeed in `target` by appending, never re-rendering: each piece becomes one
 * `<span class="stdout|stderr">` added at the end, and the oldest spans are removed when the
 * feed drops them from its window.
 *
 * It follows the end of the output (scrolling `scroller` once per batch, so one layout per
 * frame, not per chunk) until the reader scrolls away from the bottom, and again once they
 * scroll back. Only the reader's scrolls count: ours are recognised by their position, and
 * the scroller should have `overflow-anchor: none`, or the browser's scroll anchoring would
 * move it whenever old output is removed above.
 */
export class OutputView {
  private following = true;
  private ours = -1;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly target: HTMLElement,
    feed: OutputFeed,
    private readonly scroller: HTMLElement,
  ) {
    scroller.addEventListener('scroll', this.onScroll, { passive: true });
    this.unsubscribe = feed.subscribe((event) => this.apply(event));
  }

  /** Scrolls to the end if the reader is following it (after the panel around it changed size). */
  keepAtEnd(): void {
    if (!this.following) return;
    this.scroller.scrollTop = this.scroller.scrollHeight;
    this.ours = this.scroller.scrollTop;
  }

  destroy(): void {
    this.unsubscribe();
    this.scroller.removeEventListener('scroll', this.onScroll);
    this.target.replaceChildren();
  }

  private readonly onScroll = (): void => {
    const top = this.scroller.scrollTop;
    if (Math.abs(top - this.ours) < 2) return;
    this.following = this.scroller.scrollHeight - top - this.scroller.clientHeight < 24;
    this.ours = -1;
  };

  private apply(event: FeedEvent): void {
    if (event.kind === 'reset') {
      this.target.replaceChildren();
      this.following = true;
      return;
    }
    for (let i = 0; i < event.dropFront && this.target.firstChild; i++) this.target.firstChild.remove();
    if (event.pieces.length > 0) {
      const fragment = this.target.ownerDocument.createDocumentFragment();
      for (const piece of event.pieces) fragment.append(this.span(piece));
      this.target.append(fragment);
    }
    this.keepAtEnd();
  }

  private span(piece: Piece): HTMLSpanElement {
    const element = this.target.ownerDocument.createElement('span');
    element.className = piece.stream;
    element.dataset.stream = piece.stream;
    // The feed's HTML is escaped program output with class-only markup (see AnsiRenderer).
    element.innerHTML = piece.html;
    return element;
  }
}
