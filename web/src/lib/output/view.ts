import type { FeedEvent, OutputFeed, Piece } from './feed';

/**
 * Shows an OutputFeed in `target` by appending, never re-rendering: each piece becomes one
 * `<span class="stdout|stderr">` added at the end, and the oldest spans are removed when the
 * feed drops them from its window. When `follow()` says the reader is at the bottom,
 * `scroller` is scrolled there once per batch (one layout per frame, not per chunk).
 * Returns the function that detaches the view.
 */
export function mountOutputView(target: HTMLElement, feed: OutputFeed, scroller: HTMLElement, follow: () => boolean): () => void {
  const document = target.ownerDocument;

  function span(piece: Piece): HTMLSpanElement {
    const element = document.createElement('span');
    element.className = piece.stream;
    element.dataset.stream = piece.stream;
    // The feed's HTML is escaped program output with class-only markup (see AnsiRenderer).
    element.innerHTML = piece.html;
    return element;
  }

  function apply(event: FeedEvent): void {
    if (event.kind === 'reset') {
      target.replaceChildren();
      return;
    }
    const stick = follow();
    for (let i = 0; i < event.dropFront && target.firstChild; i++) target.firstChild.remove();
    if (event.pieces.length > 0) {
      const fragment = document.createDocumentFragment();
      for (const piece of event.pieces) fragment.append(span(piece));
      target.append(fragment);
    }
    if (stick) scroller.scrollTop = scroller.scrollHeight;
  }

  const unsubscribe = feed.subscribe(apply);
  return () => {
    unsubscribe();
    target.replaceChildren();
  };
}
