import { AnsiUp } from 'ansi_up';

// eslint-disable-next-line no-control-regex
const kOsc8 = /\x1b\]8;[^\x07\x1b]*;[^\x07\x1b]*(?:\x07|\x1b\\)/g;
/** An OSC sequence longer than this without its terminator is passed on as it is. */
const kMaxCarry = 4096;

/**
 * Turns program output with ANSI SGR codes into safe HTML: text is HTML-escaped, colours
 * become `ansi-*` classes (themed in CSS). OSC 8 hyperlinks become their plain text: the
 * output comes from untrusted code, so no link is made, but the text always shows (ansi_up
 * drops the text of a link whose URL it will not render, which would let a program hide
 * output from viewers). Keeps state across calls, so a colour or an escape sequence split
 * between two chunks still renders right: use one renderer per stream.
 */
export class AnsiRenderer {
  private readonly converter = new AnsiUp();
  private carry = '';

  constructor() {
    this.converter.use_classes = true;
    this.converter.escape_html = true;
    this.converter.url_allowlist = {};
  }

  render(text: string): string {
    let input = this.carry + text;
    this.carry = '';
    // An OSC sequence cut at the end of this chunk waits for the rest, so the OSC 8 markers
    // are removed whole.
    const start = input.lastIndexOf('\x1b]');
    if (start !== -1 && !/[\x07]|\x1b\\/.test(input.slice(start)) && input.length - start <= kMaxCarry) {
      this.carry = input.slice(start);
      input = input.slice(0, start);
    } else if (input.endsWith('\x1b')) {
      this.carry = '\x1b';
      input = input.slice(0, -1);
    }
    return this.converter.ansi_to_html(input.replace(kOsc8, ''));
  }
}

/** Removes ANSI escape sequences, for plain-text copies of the output. */
export function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)/g, '');
}
