import { describe, expect, it } from 'vitest';
import { AnsiRenderer, stripAnsi } from './ansi';

describe('AnsiRenderer', () => {
  it('shows the text of an OSC 8 hyperlink (BEL terminator) and makes no link', () => {
    const html = new AnsiRenderer().render('see \x1b]8;;https://evil.example/\x07the link text\x1b]8;;\x07 end');
    expect(html).toBe('see the link text end');
    expect(html).not.toContain('href');
  });

  it('shows the text of an OSC 8 hyperlink with ST terminators and parameters', () => {
    const html = new AnsiRenderer().render('\x1b]8;id=1;http://a/\x1b\\<b>txt</b>\x1b]8;;\x1b\\ y');
    expect(html).toBe('&lt;b&gt;txt&lt;/b&gt; y');
  });

  it('shows the link text when the sequence is split between chunks, at any point', () => {
    const whole = 'a \x1b]8;;https://x.example/path\x1b\\hidden?\x1b]8;;\x1b\\ b';
    for (let cut = 1; cut < whole.length; cut++) {
      const renderer = new AnsiRenderer();
      const html = renderer.render(whole.slice(0, cut)) + renderer.render(whole.slice(cut));
      expect(html, `cut at ${cut}`).toBe('a hidden? b');
    }
  });

  it('keeps colours inside a link', () => {
    const html = new AnsiRenderer().render('\x1b]8;;http://a/\x07\x1b[31mred\x1b[0m\x1b]8;;\x07');
    expect(html).toBe('<span class="ansi-red-fg">red</span>');
  });

  it('strips escape sequences for plain-text copies', () => {
    expect(stripAnsi('\x1b[1;32mok\x1b[0m \x1b]8;;http://a/\x07link\x1b]8;;\x07')).toBe('ok link');
  });
});
