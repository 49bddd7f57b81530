import type { AssetTypeSpec } from './types.js';

/** Operating state of a production machine (the same set for every machine type). */
export const MACHINE_STATES = ['running', 'idle', 'setup', 'fault', 'maintenance'] as const;
export type MachineState = (typeof MACHINE_STATES)[number];

const state = {
  kind: 'enum',
  unit: '',
  values: MACHINE_STATES,
  description: 'Operating state of the machine',
} as const;

/**
 * Science City — the industrial-internet integration demonstration zone: discrete
 * manufacturing lines and the utilities around them.
 */
export const SCIENCE_CITY_ASSETS: readonly AssetTypeSpec[] = [
  {
    id: 'production_line',
    name: 'Production line',
    parks: ['science-city'],
    reportIntervalS: 10,
    metrics: {
      state,
      planned_output: { kind: 'counter', unit: 'short', min: 0, description: 'Parts planned so far this shift' },
      good_count: { kind: 'counter', unit: 'short', min: 0, description: 'Good parts since commissioning' },
      scrap_count: { kind: 'counter', unit: 'short', min: 0, description: 'Scrapped parts since commissioning' },
      ideal_cycle_time_s: { kind: 'gauge', unit: 's', min: 0.1, max: 3600, description: 'Ideal cycle time of the bottleneck station' },
      takt_time_s: { kind: 'gauge', unit: 's', min: 0.1, max: 3600, description: 'Takt time of the line' },
      power_kw: { kind: 'gauge', unit: 'kwatt', min: 0, max: 5000, description: 'Electrical power drawn by the line' },
    },
  },
  {
    id: 'cnc_machine',
    name: 'CNC machining centre',
    parks: ['science-city'],
    reportIntervalS: 1,
    metrics: {
      state,
      spindle_rpm: { kind: 'gauge', unit: 'rotrpm', min: 0, max: 30000, description: 'Spindle speed' },
      spindle_load_pct: { kind: 'gauge', unit: 'percent', min: 0, max: 150, description: 'Spindle load relative to rated torque' },
      feed_rate_mm_min: { kind: 'gauge', unit: 'short', min: 0, max: 60000, description: 'Feed rate' },
      vibration_mm_s: { kind: 'gauge', unit: 'suffix:mm/s', min: 0, max: 100, description: 'Spindle vibration velocity, RMS (ISO 10816)' },
      temperature_c: { kind: 'gauge', unit: 'celsius', min: -20, max: 150, description: 'Spindle bearing temperature' },
      power_kw: { kind: 'gauge', unit: 'kwatt', min: 0, max: 200, description: 'Electrical power drawn' },
      part_count: { kind: 'counter', unit: 'short', min: 0, description: 'Parts machined since commissioning' },
      scrap_count: { kind: 'counter', unit: 'short', min: 0, description: 'Parts scrapped since commissioning' },
      tool_wear_pct: { kind: 'gauge', unit: 'percent', min: 0, max: 100, description: 'Wear of the active tool' },
      door_open: { kind: 'boolean', unit: '', description: 'Machine door open' },
    },
  },
  {
    id: 'industrial_robot',
    name: 'Industrial robot',
    parks: ['science-city'],
    reportIntervalS: 1,
    metrics: {
      state,
      cycle_time_s: { kind: 'gauge', unit: 's', min: 0, max: 600, description: 'Duration of the last cycle' },
      cycle_count: { kind: 'counter', unit: 'short', min: 0, description: 'Cycles since commissioning' },
      joint_temp_max_c: { kind: 'gauge', unit: 'celsius', min: -20, max: 150, description: 'Hottest joint motor temperature' },
      payload_kg: { kind: 'gauge', unit: 'masskg', min: 0, max: 2300, description: 'Payload carried' },
      power_kw: { kind: 'gauge', unit: 'kwatt', min: 0, max: 50, description: 'Electrical power drawn' },
      vibration_mm_s: { kind: 'gauge', unit: 'suffix:mm/s', min: 0, max: 100, description: 'Wrist vibration velocity, RMS' },
      error_code: { kind: 'gauge', unit: 'none', min: 0, max: 65535, description: 'Active controller error code (0 = none)' },
    },
  },
  {
    id: 'injection_moulder',
    name: 'Injection moulding machine',
    parks: ['science-city'],
    reportIntervalS: 2,
    metrics: {
      state,
      barrel_temp_c: { kind: 'gauge', unit: 'celsius', min: 0, max: 450, description: 'Barrel temperature (nozzle zone)' },
      mould_temp_c: { kind: 'gauge', unit: 'celsius', min: 0, max: 200, description: 'Mould temperature' },
      injection_pressure_bar: { kind: 'gauge', unit: 'pressurebar', min: 0, max: 3000, description: 'Peak injection pressure of the last shot' },
      cycle_time_s: { kind: 'gauge', unit: 's', min: 0, max: 600, description: 'Duration of the last shot cycle' },
      shot_count: { kind: 'counter', unit: 'short', min: 0, description: 'Shots since commissioning' },
      scrap_count: { kind: 'counter', unit: 'short', min: 0, description: 'Rejected shots since commissioning' },
      power_kw: { kind: 'gauge', unit: 'kwatt', min: 0, max: 500, description: 'Electrical power drawn' },
    },
  },
  {
    id: 'agv',
    name: 'Automated guided vehicle',
    parks: ['science-city'],
    reportIntervalS: 1,
    metrics: {
      state: { kind: 'enum', unit: '', values: ['moving', 'loading', 'unloading', 'charging', 'idle', 'fault'], description: 'Mission state' },
      battery_pct: { kind: 'gauge', unit: 'percent', min: 0, max: 100, description: 'Battery state of charge' },
      speed_m_s: { kind: 'gauge', unit: 'velocityms', min: 0, max: 5, description: 'Ground speed' },
      pos_x_m: { kind: 'gauge', unit: 'lengthm', min: -10000, max: 10000, description: 'Position in the site frame, x' },
      pos_y_m: { kind: 'gauge', unit: 'lengthm', min: -10000, max: 10000, description: 'Position in the site frame, y' },
      load_kg: { kind: 'gauge', unit: 'masskg', min: 0, max: 5000, description: 'Load carried' },
      odometer_km: { kind: 'counter', unit: 'lengthkm', min: 0, description: 'Distance travelled since commissioning' },
      obstacle_stops: { kind: 'counter', unit: 'short', min: 0, description: 'Safety stops for obstacles since commissioning' },
    },
  },
  {
    id: 'air_compressor',
    name: 'Air compressor',
    parks: ['science-city'],
    reportIntervalS: 5,
    metrics: {
      state,
      outlet_pressure_bar: { kind: 'gauge', unit: 'pressurebar', min: 0, max: 40, description: 'Outlet pressure' },
      flow_m3_min: { kind: 'gauge', unit: 'short', min: 0, max: 200, description: 'Free air delivery' },
      discharge_temp_c: { kind: 'gauge', unit: 'celsius', min: -20, max: 150, description: 'Discharge temperature' },
      power_kw: { kind: 'gauge', unit: 'kwatt', min: 0, max: 1000, description: 'Electrical power drawn' },
      load_pct: { kind: 'gauge', unit: 'percent', min: 0, max: 100, description: 'Share of time loaded' },
      run_hours: { kind: 'counter', unit: 'h', min: 0, description: 'Running hours since commissioning' },
    },
  },
  {
    id: 'pv_inverter',
    name: 'Photovoltaic inverter',
    parks: ['science-city'],
    reportIntervalS: 10,
    metrics: {
      ac_power_kw: { kind: 'gauge', unit: 'kwatt', min: 0, max: 5000, description: 'AC output power' },
      dc_voltage_v: { kind: 'gauge', unit: 'volt', min: 0, max: 1500, description: 'DC input voltage' },
      energy_today_kwh: { kind: 'gauge', unit: 'kwatth', min: 0, max: 50000, description: 'Energy yield today (resets at midnight)' },
      energy_total_kwh: { kind: 'counter', unit: 'kwatth', min: 0, description: 'Energy yield since commissioning' },
      irradiance_w_m2: { kind: 'gauge', unit: 'Wm2', min: 0, max: 1500, description: 'Plane-of-array irradiance' },
      module_temp_c: { kind: 'gauge', unit: 'celsius', min: -40, max: 100, description: 'Module temperature' },
      efficiency_pct: { kind: 'gauge', unit: 'percent', min: 0, max: 100, description: 'Conversion efficiency' },
    },
  },
];
