/**
 * Knowledge City and Yuzhu: 5G radio sites, edge data-centre racks and AI compute clusters.
 * Traffic and utilisation follow the day; power follows load; energy integrates power.
 */
import type { FieldValue } from '@parkpulse/telemetry';
import { TRAFFIC_PROFILE } from './energy.js';
import type { ModelContext } from './model.js';
import {
  BaseModel,
  HOUR_MS,
  MINUTE_MS,
  Ou,
  SECOND_MS,
  clamp,
  hourlyProfile,
  isWeekend,
  localHour,
  occurs,
  officeOccupancy,
  pick,
  uniform,
  uniformInt,
} from './util.js';
import { ParkWeather } from './weather.js';

/** Power usage effectiveness of the AI clusters: from cool (≤ 12 °C) to hot (≥ 34 °C) outdoor air. */
export const AI_CLUSTER_PUE = { min: 1.18, max: 1.4 } as const;

/** Mobile traffic of a site, 0…1, by local time (weekends: a later, flatter morning). */
function traffic(tMs: number): number {
  const h = localHour(tMs);
  const base = hourlyProfile(TRAFFIC_PROFILE, h);
  return isWeekend(tMs) && h < 12 ? base * 0.85 : base;
}

// ---------------------------------------------------------------------------------------------

class BaseStation5g extends BaseModel {
  private readonly dlCapMbps = uniform(this.rng, 2500, 6000);
  private readonly ulCapMbps = this.dlCapMbps * uniform(this.rng, 0.15, 0.25);
  private readonly scale = uniform(this.rng, 0.55, 1);
  private readonly maxUe = uniform(this.rng, 300, 1500);
  private readonly sinrBase = uniform(this.rng, 14, 22);
  private readonly rsrpBase = uniform(this.rng, -98, -85);
  private readonly baseKw = uniform(this.rng, 2, 3.5);
  private readonly radioKw = uniform(this.rng, 3, 6);
  private readonly batteryKwh = uniform(this.rng, 10, 20);
  private readonly weather: ParkWeather;
  private readonly loadNoise = new Ou(this.rng, 0, 0.06, 300);
  private readonly sinrNoise = new Ou(this.rng, 0, 0.8, 120);
  private readonly rsrpNoise = new Ou(this.rng, 0, 0.8, 300);
  private readonly hoNoise = new Ou(this.rng, 0, 0.15, 600);
  private energyKwh: number;
  private load = 0;
  private power = 0;
  private temp: number;
  private soc = 100;
  private mainsBackAt = 0;
  private cellBackAt = 0;
  private minorAlarmUntil = 0;
  private upS = 0;
  private windowS = 0;

  constructor(ctx: ModelContext, startMs: number) {
    super(ctx, startMs, 15);
    this.weather = new ParkWeather(ctx.seed, ctx.park);
    this.energyKwh = (this.baseKw + this.radioKw * 0.6) * 8760 * uniform(this.rng, 0.5, 4);
    this.temp = this.weather.at(startMs).tempC + 10;
    this.update(startMs, 0);
  }

  private get onBattery(): boolean {
    return this.mainsBackAt > this.now;
  }

  private get cellDown(): boolean {
    return this.cellBackAt > this.now;
  }

  private update(tMs: number, dtS: number): void {
    const n = this.loadNoise.step(dtS || 1);
    this.load = this.cellDown ? 0 : clamp(traffic(tMs) * this.scale * (1 + n), 0.02, 1);
    const outdoor = this.weather.at(tMs).tempC;
    const radio = this.cellDown ? 0.1 : (0.3 + 0.7 * this.load) * (this.onBattery ? 0.7 : 1);
    const cooling = this.onBattery ? 0 : 0.06 * Math.max(0, outdoor - 20);
    this.power = this.baseKw + this.radioKw * radio + cooling;
    if (dtS > 0)
      this.temp += (outdoor + 7 + 8 * this.load - this.temp) * (1 - Math.exp(-dtS / 900));
  }

  protected tick(t0: number, dtS: number): void {
    const r = this.rng;
    const t1 = t0 + dtS * SECOND_MS;
    if (!this.onBattery && occurs(r, 1 / (6 * 24 * 3600), dtS)) {
      this.mainsBackAt = t1 + uniform(r, 10, 90) * MINUTE_MS;
      this.emit('MAINS_FAILURE', 'critical', 'mains lost, site running on battery');
    } else if (this.mainsBackAt > t0 && this.mainsBackAt <= t1) {
      this.emit('MAINS_RESTORED', 'info', 'mains restored, battery recharging');
    }
    if (!this.cellDown && occurs(r, 1 / (4 * 24 * 3600), dtS)) {
      this.cellBackAt = t1 + uniform(r, 2, 20) * MINUTE_MS;
      this.emit('CELL_OUTAGE', 'critical', 'cell out of service (baseband restart)');
    } else if (this.cellBackAt > t0 && this.cellBackAt <= t1) {
      this.emit('CELL_RESTORED', 'info', 'cell back in service');
    }
    if (this.minorAlarmUntil <= t1 && occurs(r, 1 / (24 * 3600), dtS))
      this.minorAlarmUntil = t1 + uniform(r, 1, 6) * HOUR_MS;
    this.update(t1, dtS);
    this.upS += this.cellDown ? 0 : dtS;
    this.windowS += dtS;
    this.energyKwh += (this.power * dtS) / 3600;
    const soc = this.onBattery
      ? this.soc - ((this.power * dtS) / 3600 / this.batteryKwh) * 100
      : this.soc + (dtS / 3600) * 20;
    this.soc = clamp(soc, 5, 100);
    this.sinrNoise.step(dtS);
    this.rsrpNoise.step(dtS);
    this.hoNoise.step(dtS);
  }

  protected sample(): Record<string, FieldValue> {
    const load = this.load;
    const sinr = this.sinrBase - 7 * load + this.sinrNoise.value;
    const se = clamp(0.55 + 0.025 * sinr, 0.4, 1.2);
    const prbDl = this.cellDown ? 0 : clamp(6 + 82 * load, 0, 100);
    const prbUl = this.cellDown ? 0 : clamp(4 + 50 * load, 0, 100);
    const availability = this.windowS > 0 ? (100 * this.upS) / this.windowS : 100;
    this.upS = 0;
    this.windowS = 0;
    const alarms =
      (this.onBattery ? 2 : 0) +
      (this.cellDown ? 1 : 0) +
      (this.minorAlarmUntil > this.now ? 1 : 0) +
      (this.temp > 45 ? 1 : 0);
    return {
      dl_throughput_mbps: ((this.dlCapMbps * prbDl) / 100) * se * 0.9,
      ul_throughput_mbps: ((this.ulCapMbps * prbUl) / 100) * se,
      prb_utilisation_dl_pct: prbDl,
      prb_utilisation_ul_pct: prbUl,
      connected_ue: Math.round(this.cellDown ? 0 : 5 + this.maxUe * load),
      avg_rsrp_dbm: this.rsrpBase - 2 * load + this.rsrpNoise.value,
      avg_sinr_db: sinr,
      handover_success_pct: Math.min(100, 99.6 - 0.8 * load + this.hoNoise.value),
      cell_availability_pct: availability,
      power_kw: this.power,
      energy_kwh: this.energyKwh,
      temperature_c: this.temp,
      on_battery: this.onBattery,
      battery_soc_pct: this.soc,
      active_alarms: alarms,
    };
  }
}

// ---------------------------------------------------------------------------------------------

/** Edge computing load: business hours plus an evening consumer peak, 0…1. */
function edgeLoad(tMs: number): number {
  return 0.25 + 0.35 * officeOccupancy(tMs) + 0.3 * hourlyProfile(TRAFFIC_PROFILE, localHour(tMs));
}

class EdgeRack extends BaseModel {
  private readonly servers = uniformInt(this.rng, 12, 36);
  private readonly netScale = uniform(this.rng, 200, 4000);
  private readonly outRatio = uniform(this.rng, 0.6, 1.4);
  private readonly shareA = uniform(this.rng, 0.47, 0.53);
  private readonly imbalance = uniform(this.rng, 1.05, 1.18);
  private readonly coldAisle = uniform(this.rng, 21, 25);
  private readonly memBase = uniform(this.rng, 45, 70);
  private readonly cpuNoise = new Ou(this.rng, 0, 0.05, 240);
  private readonly memNoise = new Ou(this.rng, 0, 2, 900);
  private readonly netNoise = new Ou(this.rng, 0, 0.08, 60);
  private readonly vNoise = new Ou(this.rng, 0, 1.2, 600);
  private readonly inletNoise = new Ou(this.rng, 0, 0.3, 300);
  private readonly humidity = new Ou(this.rng, uniform(this.rng, 40, 55), 2.5, 3600);
  private energyKwh: number;
  private cpu = 0;
  private power = 0;
  private down = 0;
  private readonly backAt: number[] = [];
  private doorUntil = 0;
  private leakUntil = 0;

  constructor(ctx: ModelContext, startMs: number) {
    super(ctx, startMs, 10);
    this.energyKwh = this.servers * 0.4 * 8760 * uniform(this.rng, 0.5, 5);
    this.update(startMs, 0);
  }

  private update(tMs: number, dtS: number): void {
    const online = this.servers - this.down;
    this.cpu = clamp(edgeLoad(tMs) + this.cpuNoise.step(dtS || 1), 0.03, 1) * 100;
    this.power = online * (0.18 + (0.47 * this.cpu) / 100) + 0.6;
  }

  protected tick(t0: number, dtS: number): void {
    const r = this.rng;
    const t1 = t0 + dtS * SECOND_MS;
    if (occurs(r, (this.servers - this.down) / (90 * 24 * 3600), dtS)) {
      this.down++;
      this.backAt.push(t1 + uniform(r, 0.5, 6) * HOUR_MS);
      this.emit('SERVER_DOWN', 'warning', 'a server stopped responding');
    }
    for (let i = this.backAt.length - 1; i >= 0; i--) {
      if ((this.backAt[i] ?? Infinity) <= t1) {
        this.backAt.splice(i, 1);
        this.down--;
      }
    }
    if (this.doorUntil <= t1 && occurs(r, (officeOccupancy(t1) * 0.6) / (24 * 3600), dtS)) {
      this.doorUntil = t1 + uniform(r, 3, 20) * MINUTE_MS;
      this.emit('RACK_DOOR_OPEN', 'info', 'rack door opened');
    }
    if (this.leakUntil <= t1 && occurs(r, 1 / (60 * 24 * 3600), dtS)) {
      this.leakUntil = t1 + uniform(r, 10, 60) * MINUTE_MS;
      this.emit('LEAK_DETECTED', 'critical', 'water detected under the rack');
    }
    this.update(t1, dtS);
    this.energyKwh += (this.power * dtS) / 3600;
    this.memNoise.step(dtS);
    this.netNoise.step(dtS);
    this.vNoise.step(dtS);
    this.inletNoise.step(dtS);
    this.humidity.step(dtS);
  }

  protected sample(): Record<string, FieldValue> {
    const v = 230 + this.vNoise.value;
    const perPhase = (share: number) =>
      ((this.power * 1000 * share) / (3 * v * 0.97)) * this.imbalance;
    const inlet = this.coldAisle + this.inletNoise.value + (this.doorUntil > this.now ? 1.5 : 0);
    const netIn = this.netScale * (0.2 + (0.8 * this.cpu) / 100) * (1 + this.netNoise.value);
    return {
      it_power_kw: this.power,
      energy_kwh: this.energyKwh,
      pdu_a_current_a: perPhase(this.shareA),
      pdu_b_current_a: perPhase(1 - this.shareA),
      pdu_voltage_v: v,
      inlet_temp_c: inlet,
      outlet_temp_c: inlet + 8 + (10 * this.cpu) / 100,
      humidity_pct: this.humidity.value,
      cpu_utilisation_pct: this.cpu,
      memory_utilisation_pct: clamp(
        this.memBase + (10 * this.cpu) / 100 + this.memNoise.value,
        5,
        98,
      ),
      network_in_mbps: Math.max(0, netIn),
      network_out_mbps: Math.max(0, netIn * this.outRatio),
      servers_online: this.servers - this.down,
      door_open: this.doorUntil > this.now,
      leak_detected: this.leakUntil > this.now,
    };
  }
}

// ---------------------------------------------------------------------------------------------

class AiComputeCluster extends BaseModel {
  private readonly gpus = pick(this.rng, [512, 1024, 2048, 4096, 8192]);
  private readonly trainShare = uniform(this.rng, 0.5, 0.85);
  private readonly supplyBase = uniform(this.rng, 30, 34);
  private readonly flowDesign: number;
  private readonly weather: ParkWeather;
  private readonly training = new Ou(this.rng, 0.9, 0.03, 900);
  private readonly inference = new Ou(this.rng, 0, 0.05, 300);
  private readonly pueNoise = new Ou(this.rng, 0, 0.006, 1800);
  private readonly tempNoise = new Ou(this.rng, 0, 1, 120);
  private readonly jobNoise = new Ou(this.rng, 0, 0.05, 600);
  private dipUntil = 0;
  private failedNodes = 0;
  private readonly nodeBackAt: number[] = [];
  private util = 0;
  private it = 0;
  private pue = 1.3;
  private outdoor = 25;
  private itEnergy: number;
  private jobsCompleted: number;
  private jobFrac = 0;

  constructor(ctx: ModelContext, startMs: number) {
    super(ctx, startMs, 10);
    this.weather = new ParkWeather(ctx.seed, ctx.park);
    this.flowDesign = (0.75 * this.gpus * 1.35 * 3600) / (4180 * 8);
    this.itEnergy = this.gpus * 1.1 * 8760 * uniform(this.rng, 0.3, 3);
    this.jobsCompleted = uniformInt(this.rng, 10_000, 2_000_000);
    this.update(startMs, 0);
  }

  private get gpusOnline(): number {
    return this.gpus - 8 * this.failedNodes;
  }

  private update(tMs: number, dtS: number): void {
    const h = localHour(tMs);
    const train = this.dipUntil > tMs ? 0.3 : this.training.step(dtS || 1);
    const infer = clamp(
      0.25 + 0.6 * hourlyProfile(TRAFFIC_PROFILE, h) + this.inference.step(dtS || 1),
      0.05,
      1,
    );
    this.util = clamp(this.trainShare * train + (1 - this.trainShare) * infer, 0.02, 1);
    this.it = this.gpusOnline * (0.35 + 0.95 * this.util) + this.gpus * 0.05;
    this.outdoor = this.weather.at(tMs).tempC;
    const heat = clamp((this.outdoor - 12) / 22, 0, 1);
    this.pue =
      AI_CLUSTER_PUE.min +
      (AI_CLUSTER_PUE.max - AI_CLUSTER_PUE.min - 0.03) * heat +
      0.02 * (1 - this.util) +
      this.pueNoise.step(dtS || 1);
  }

  protected tick(t0: number, dtS: number): void {
    const r = this.rng;
    const t1 = t0 + dtS * SECOND_MS;
    if (this.dipUntil <= t1 && occurs(r, 1 / (6 * 3600), dtS)) {
      this.dipUntil = t1 + uniform(r, 5, 20) * MINUTE_MS;
      this.emit('TRAINING_JOB_RESTART', 'info', 'large training job checkpoint/restart');
    }
    if (occurs(r, 1 / (12 * 3600), dtS) && this.failedNodes < this.gpus / 64) {
      this.failedNodes++;
      this.nodeBackAt.push(t1 + uniform(r, 2, 24) * HOUR_MS);
      this.emit('GPU_NODE_DOWN', 'warning', 'a GPU node left the pool (XID error)');
    }
    for (let i = this.nodeBackAt.length - 1; i >= 0; i--) {
      if ((this.nodeBackAt[i] ?? Infinity) <= t1) {
        this.nodeBackAt.splice(i, 1);
        this.failedNodes--;
      }
    }
    this.update(t1, dtS);
    this.itEnergy += (this.it * dtS) / 3600;
    this.jobFrac += (this.jobsRunning() * dtS) / (45 * 60);
    const whole = Math.floor(this.jobFrac);
    this.jobFrac -= whole;
    this.jobsCompleted += whole;
    this.tempNoise.step(dtS);
    this.jobNoise.step(dtS);
  }

  private jobsRunning(): number {
    return Math.round((this.gpusOnline / 32) * (0.4 + 0.6 * this.util) * (1 + this.jobNoise.value));
  }

  protected sample(): Record<string, FieldValue> {
    const flow = this.flowDesign * (0.8 + 0.2 * this.util);
    const supply =
      this.supplyBase + 0.15 * Math.max(0, this.outdoor - 25) + 0.2 * this.tempNoise.value;
    const liquidKw = 0.75 * this.it;
    const inlet = 23 + 0.04 * Math.max(0, this.outdoor - 25) + 0.3 * this.tempNoise.value;
    return {
      it_power_kw: this.it,
      facility_power_kw: this.it * this.pue,
      pue: this.pue,
      it_energy_kwh: this.itEnergy,
      gpu_utilisation_pct: this.util * 100,
      gpus_online: this.gpusOnline,
      gpu_temp_max_c: supply + 22 + 28 * this.util + this.tempNoise.value,
      inlet_temp_c: inlet,
      outlet_temp_c: inlet + 6 + 10 * this.util,
      coolant_supply_temp_c: supply,
      coolant_return_temp_c: supply + (liquidKw * 3600) / (4180 * flow),
      coolant_flow_m3_h: flow,
      jobs_running: Math.max(0, this.jobsRunning()),
      jobs_completed: this.jobsCompleted,
    };
  }

  protected override decimals(name: string): number {
    if (name === 'pue') return 3;
    if (name === 'gpus_online' || name.startsWith('jobs')) return 0;
    return name === 'it_energy_kwh' ? 3 : 2;
  }
}

export const createBaseStation5g = (ctx: ModelContext, startMs: number) =>
  new BaseStation5g(ctx, startMs);
export const createEdgeRack = (ctx: ModelContext, startMs: number) => new EdgeRack(ctx, startMs);
export const createAiComputeCluster = (ctx: ModelContext, startMs: number) =>
  new AiComputeCluster(ctx, startMs);
