// Control characters never belong in a reading, an id or an event text, and a raw newline is the
// classic way to smuggle a second line into line protocol. One definition for all checks.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;
// eslint-disable-next-line no-control-regex -- as above
const CONTROL_CHARS_G = /[\u0000-\u001f\u007f]/g;

export function hasControlChars(text: string): boolean {
  return CONTROL_CHARS.test(text);
}

/** The text with every control character replaced by `?` (for error details and records). */
export function replaceControlChars(text: string): string {
  return text.replace(CONTROL_CHARS_G, '?');
}
