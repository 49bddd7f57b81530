import { describe, expect, it } from 'vitest';
import { clipText, codePointLength, freeTextForRecord, freeTextProblem } from './text.js';

describe('text rules', () => {
  it('counts code points, not UTF-16 units', () => {
    expect(codePointLength('🔥'.repeat(200))).toBe(200);
    expect(codePointLength('a\ud800b')).toBe(3); // an unpaired half counts as one
  });

  it('clips between characters, never inside a surrogate pair', () => {
    expect(clipText('abc', 5)).toBe('abc');
    expect(clipText('abcdef', 4)).toBe('abcd');
    // 'a' + 🔥 (2 units): a cut at 2 would keep the first half only.
    expect(clipText('a🔥b', 2)).toBe('a');
    expect(clipText('a🔥b', 3)).toBe('a🔥');
    expect(clipText('🔥'.repeat(300), 512)).toBe('🔥'.repeat(256));
    expect(clipText('x' + '🔥'.repeat(300), 512)).toBe('x' + '🔥'.repeat(255));
  });

  it('keeps the lines of a free text for a record, and nothing the free-text rule refuses', () => {
    expect(freeTextForRecord('two\nlines\r\n\tand a tab 🔥')).toBe('two\nlines\r\n\tand a tab 🔥');
    expect(freeTextForRecord('ring\u0007 nul\u0000 del\u007f c1\u0085 half\ud800!')).toBe(
      'ring? nul? del? c1? half?!',
    );
  });

  it('names the rule a free text broke', () => {
    expect(freeTextProblem('message', 'two\nlines\tand a tab\r', 512)).toBeUndefined();
    expect(freeTextProblem('message', 'ring\u0007', 512)).toBe(
      'message must not contain control characters other than tab, LF and CR (found U+0007)',
    );
    expect(freeTextProblem('message', '🔥'.repeat(513), 512)).toBe(
      'message is 513 characters (Unicode code points), at most 512',
    );
  });
});
