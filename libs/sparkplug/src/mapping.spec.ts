import { describe, expect, it } from 'vitest';
import { metricRename, RENAME_CACHE_SIZE } from './mapping.js';

describe('metricRename', () => {
  it('reads a name the same the first time and every time after (the table, then normalisation)', () => {
    const rename = metricRename('cnc_machine', { 'Spindle/Speed RPM': 'spindle_rpm' }, 'refuse');
    for (let i = 0; i < 3; i++) {
      expect(rename('Spindle/Speed RPM')).toBe('spindle_rpm');
      expect(rename('Spindle Temperature C')).toEqual({
        reason: 'metric_unmapped',
        detail: '"spindle_temperature_c" is no cnc_machine metric and no mapping names it',
      });
      expect(rename('Line\nx')).toEqual({
        reason: 'metric_name_invalid',
        detail: 'name contains control characters',
      });
    }
  });

  it('names beyond the remembered ones are still read correctly', () => {
    const rename = metricRename('energy_meter', {}, 'store');
    for (let i = 0; i < RENAME_CACHE_SIZE + 10; i++) expect(rename(`Tag ${i}`)).toBe(`tag_${i}`);
    expect(rename(`Tag ${RENAME_CACHE_SIZE + 5}`)).toBe(`tag_${RENAME_CACHE_SIZE + 5}`);
  });
});
