// Reproduction of the InfluxQL that Grafana 11 sends for a provisioned dashboard.
export * from './interpolate.js';
export * from './run-dashboard.js';
