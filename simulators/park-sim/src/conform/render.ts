import type { ClauseStatus } from './clauses.js';
import type { ConformReport } from './conform.js';

const COLOURS: Record<ClauseStatus, string> = {
  pass: '\u001b[32m',
  warn: '\u001b[33m',
  fail: '\u001b[31m',
  skip: '\u001b[90m',
};
const RESET = '\u001b[0m';
const BOLD = '\u001b[1m';

/** The report as a terminal table, one row per clause (colours only when `colour`). */
export function renderReport(report: ConformReport, colour: boolean): string {
  const paint = (status: ClauseStatus, text: string) =>
    colour ? `${COLOURS[status]}${text}${RESET}` : text;
  const rows = report.clauses.map((c) => [c.id, c.status.toUpperCase(), c.ref, c.detail]);
  const widths = [0, 1, 2].map((i) =>
    Math.max(['clause', 'result', 'contract'][i]!.length, ...rows.map((r) => r[i]!.length)),
  );
  const line = (cells: string[], status?: ClauseStatus) =>
    cells
      .map((cell, i) => {
        const padded = i < 3 ? cell.padEnd(widths[i]!) : cell;
        return i === 1 && status ? paint(status, padded) : padded;
      })
      .join('  ');
  const out: string[] = [];
  const head = `conformance of ${report.deviceId} on ${report.broker}: ${report.mode} check, ${(report.watchedMs / 1000).toFixed(1)} s, ${report.messages} messages`;
  out.push(colour ? `${BOLD}${head}${RESET}` : head, '');
  out.push(line(['clause', 'result', 'contract', 'detail']));
  out.push(line(widths.map((w) => '-'.repeat(w)).concat('-'.repeat(6))));
  for (const c of report.clauses) {
    out.push(line([c.id, c.status.toUpperCase(), c.ref, c.detail], c.status));
    for (const e of c.examples)
      out.push(`${' '.repeat(widths[0]! + widths[1]! + widths[2]! + 6)}· ${e}`);
  }
  if (report.deadLetters.length > 0) {
    out.push(
      '',
      `dead letters the ingestion published for this device: ${report.deadLetters.length}`,
    );
    for (const d of report.deadLetters.slice(0, 5)) out.push(`  ${d.reason}: ${d.detail}`);
  }
  const failed = report.clauses.filter((c) => c.status === 'fail').map((c) => c.id);
  out.push(
    '',
    report.passed
      ? paint('pass', 'PASS: every observable clause kept')
      : paint('fail', `FAIL: ${failed.join(', ')}`),
  );
  return `${out.join('\n')}\n`;
}
