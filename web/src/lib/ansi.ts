import { AnsiUp } from 'ansi_up';

/**
 * Turns program output with ANSI SGR codes into safe HTML: text is HTML-escaped, colours
 * become `ansi-*` classes (themed in CSS) and OSC 8 hyperlinks stay plain text, since the
 * output comes from untrusted code. Keeps state across calls, so a colour or an escape
 * sequence split between two chunks still renders right: use one renderer per stream.
 */
export class AnsiRenderer {
  private readonly converter = new AnsiUp();

  constructor() {
    this.converter.use_classes = true;
    this.converter.escape_html = true;
    this.converter.url_allowlist = {};
  }

  render(text: string): string {
    return this.converter.ansi_to_html(text);
  }
}

/** Removes ANSI escape sequences, for plain-text copies of the output. */
export function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)/g, '');
}
