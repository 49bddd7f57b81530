// Control characters never belong in a reading or an id, and a raw newline is the classic way to
// smuggle a second line into line protocol. One definition for all checks.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;
// eslint-disable-next-line no-control-regex -- as above
const CONTROL_CHARS_G = /[\u0000-\u001f\u007f]/g;

/**
 * What free text (an event's `message`) may not contain: every C0 control character except the
 * ordinary whitespace TAB, LF and CR, DEL, the C1 controls U+0080–U+009F, and lone UTF-16
 * surrogates (a JSON `\ud800` escape that is not half of a pair encodes no character at all).
 * Line protocol quotes string fields, so a newline inside one is data, not a line break.
 */
// eslint-disable-next-line no-control-regex -- as above
const FREE_TEXT_REFUSED = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]|\p{Cs}/u;

const FREE_TEXT_REFUSED_G = new RegExp(FREE_TEXT_REFUSED.source, 'gu');

export function hasControlChars(text: string): boolean {
  return CONTROL_CHARS.test(text);
}

/** The first character free text may not contain, as `U+XXXX`, or undefined when it is clean. */
export function refusedInFreeText(text: string): string | undefined {
  const match = FREE_TEXT_REFUSED.exec(text);
  if (!match) return undefined;
  const code = match[0].codePointAt(0) ?? 0;
  return `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * Why `text` breaks the free-text rule of the contract (an event's or a command result's
 * `message`): more than `max` characters (Unicode code points), or a character
 * `refusedInFreeText`. The detail names the field and, for a control character, the character
 * found (`found U+0007`); undefined when the text is fine.
 */
export function freeTextProblem(field: string, text: string, max: number): string | undefined {
  const length = codePointLength(text);
  if (length > max) return `${field} is ${length} characters (Unicode code points), at most ${max}`;
  const refused = refusedInFreeText(text);
  return refused
    ? `${field} must not contain control characters other than tab, LF and CR (found ${refused})`
    : undefined;
}

/**
 * Length in characters — Unicode code points, what the contract's limits count — rather than
 * UTF-16 code units (`String.length`, which counts an emoji as 2). Stops counting past `max`,
 * so an over-long string costs no more than the limit.
 */
export function codePointLength(text: string, max = Infinity): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    // Every code unit is one code point except the low half of a surrogate pair.
    const unit = text.charCodeAt(i);
    if (unit >= 0xdc00 && unit <= 0xdfff && i > 0 && isHighSurrogate(text.charCodeAt(i - 1)))
      continue;
    if (++n > max) return n;
  }
  return n;
}

/**
 * `text` cut to at most `maxUnits` UTF-16 code units between two characters: never after the
 * first half of a surrogate pair (which would store U+FFFD in its place).
 */
export function clipText(text: string, maxUnits: number): string {
  if (text.length <= maxUnits) return text;
  const end = isHighSurrogate(text.charCodeAt(maxUnits - 1)) ? maxUnits - 1 : maxUnits;
  return text.slice(0, end);
}

function isHighSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff;
}

/**
 * Free text for a record (a command's detail, an alarm comment): what the free-text rule refuses
 * replaced by `?`, tab, LF and CR kept — a device's multi-line message is stored as it was sent,
 * as an event's is.
 */
export function freeTextForRecord(text: string): string {
  return text.replace(FREE_TEXT_REFUSED_G, '?');
}

/** The text with every control character replaced by `?` (for error details and records). */
export function replaceControlChars(text: string): string {
  return text.replace(CONTROL_CHARS_G, '?');
}
