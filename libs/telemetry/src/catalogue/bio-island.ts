import type { AssetTypeSpec } from './types.js';

/**
 * Bio Island — the biosafety smart island: containment laboratories and the sample freezers.
 * Outdoor and room environment is measured by the common `environment_sensor`.
 */
export const BIO_ISLAND_ASSETS: readonly AssetTypeSpec[] = [
  {
    id: 'bsl_laboratory',
    name: 'Biosafety laboratory (BSL-2/3)',
    parks: ['bio-island'],
    reportIntervalS: 2,
    metrics: {
      mode: {
        kind: 'enum',
        unit: '',
        values: ['operational', 'unoccupied', 'decontamination', 'maintenance'],
        description: 'Operating mode of the containment suite',
      },
      room_pressure_pa: {
        kind: 'gauge',
        unit: 'pressurepa',
        min: -300,
        max: 300,
        thresholds: { warning: -25, critical: -15 },
        description:
          'Lab pressure relative to the corridor (negative: about −15 to −60 in a BSL-3 cascade)',
      },
      anteroom_pressure_pa: {
        kind: 'gauge',
        unit: 'pressurepa',
        min: -300,
        max: 300,
        description: 'Anteroom pressure relative to the corridor (between corridor and lab)',
      },
      room_pressure_setpoint_pa: {
        kind: 'gauge',
        unit: 'pressurepa',
        min: -300,
        max: 300,
        description: 'Lab pressure setpoint relative to the corridor',
      },
      air_changes_per_h: {
        kind: 'gauge',
        unit: 'short',
        min: 0,
        max: 100,
        thresholds: { direction: 'below', warning: 10, critical: 6 },
        description: 'Air changes per hour (supply airflow / room volume)',
      },
      supply_airflow_m3_h: {
        kind: 'gauge',
        unit: 'short',
        min: 0,
        max: 50000,
        description: 'Supply airflow, m³/h',
      },
      exhaust_airflow_m3_h: {
        kind: 'gauge',
        unit: 'short',
        min: 0,
        max: 50000,
        description: 'Exhaust airflow, m³/h',
      },
      hepa_supply_dp_pa: {
        kind: 'gauge',
        unit: 'pressurepa',
        min: 0,
        max: 2000,
        thresholds: { warning: 400, critical: 500 },
        description: 'Pressure drop across the supply HEPA filter',
      },
      hepa_exhaust_dp_pa: {
        kind: 'gauge',
        unit: 'pressurepa',
        min: 0,
        max: 2000,
        thresholds: { warning: 400, critical: 500 },
        description: 'Pressure drop across the exhaust HEPA filter',
      },
      exhaust_fan_speed_pct: {
        kind: 'gauge',
        unit: 'percent',
        min: 0,
        max: 100,
        description: 'Exhaust fan speed (duty fan)',
      },
      temperature_c: {
        kind: 'gauge',
        unit: 'celsius',
        min: -10,
        max: 60,
        description: 'Lab air temperature',
      },
      humidity_pct: {
        kind: 'gauge',
        unit: 'humidity',
        min: 0,
        max: 100,
        description: 'Lab relative humidity',
      },
      door_open: { kind: 'boolean', unit: '', description: 'Inner door (anteroom to lab) open' },
      anteroom_door_open: {
        kind: 'boolean',
        unit: '',
        description: 'Outer door (corridor to anteroom) open',
      },
      containment_ok: {
        kind: 'boolean',
        unit: '',
        description: 'Pressure cascade and airflow within limits (containment maintained)',
      },
    },
  },
  {
    id: 'ultra_low_freezer',
    name: 'Ultra-low temperature freezer',
    parks: ['bio-island'],
    reportIntervalS: 30,
    metrics: {
      cabinet_temp_c: {
        kind: 'gauge',
        unit: 'celsius',
        min: -95,
        max: 40,
        thresholds: { warning: -75, critical: -70 },
        description: 'Cabinet air temperature (about −80 in operation)',
      },
      setpoint_c: {
        kind: 'gauge',
        unit: 'celsius',
        min: -95,
        max: 0,
        description: 'Cabinet temperature setpoint',
      },
      ambient_temp_c: {
        kind: 'gauge',
        unit: 'celsius',
        min: -10,
        max: 60,
        description: 'Room temperature around the freezer',
      },
      condenser_temp_c: {
        kind: 'gauge',
        unit: 'celsius',
        min: -20,
        max: 100,
        description: 'Condenser temperature',
      },
      compressor_on: {
        kind: 'boolean',
        unit: '',
        description: 'Compressor (cascade stage) running',
      },
      door_open: { kind: 'boolean', unit: '', description: 'Outer door open' },
      door_openings: {
        kind: 'counter',
        unit: 'short',
        min: 0,
        description: 'Door openings since commissioning',
      },
      defrost: { kind: 'boolean', unit: '', description: 'Defrost cycle in progress' },
      high_temp_alarm: {
        kind: 'boolean',
        unit: '',
        description: 'Cabinet temperature above the alarm threshold',
      },
      backup_cooling_active: {
        kind: 'boolean',
        unit: '',
        description: 'CO₂ / LN₂ backup cooling injecting',
      },
      power_kw: {
        kind: 'gauge',
        unit: 'kwatt',
        min: 0,
        max: 10,
        description: 'Electrical power drawn',
      },
      energy_kwh: {
        kind: 'counter',
        unit: 'kwatth',
        min: 0,
        description: 'Energy since commissioning',
      },
    },
  },
];
