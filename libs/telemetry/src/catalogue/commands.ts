/**
 * Commands each asset type accepts, with the types and ranges of their parameters. The operations
 * service validates every command against this table before anything is sent, and the simulated
 * devices implement exactly these (a real device should still check what it receives).
 */

/** One parameter of a command. */
export type CommandParamSpec =
  | {
      readonly kind: 'number';
      readonly unit: string;
      readonly min: number;
      readonly max: number;
      /** Whole numbers only. */
      readonly integer?: boolean;
      readonly description: string;
    }
  | { readonly kind: 'boolean'; readonly description: string }
  | { readonly kind: 'enum'; readonly values: readonly string[]; readonly description: string };

export interface CommandSpec {
  readonly description: string;
  /** Every parameter is required; a command without parameters has `{}`. */
  readonly params: Readonly<Record<string, CommandParamSpec>>;
  /** How long the device typically takes from `accepted` to `done`, seconds (documentation). */
  readonly typicalDurationS: number;
}

/** Commands by asset type id, then by command name (`^[a-z][a-z0-9_]{0,62}$`). */
export const ASSET_COMMANDS: Readonly<Record<string, Readonly<Record<string, CommandSpec>>>> = {
  street_light: {
    dim: {
      description: 'Set the dimming level; the luminaire draws power in proportion',
      params: {
        level_pct: {
          kind: 'number',
          unit: 'percent',
          min: 0,
          max: 100,
          description: 'Output level (100 = full)',
        },
      },
      typicalDurationS: 1,
    },
    switch: {
      description: 'Switch the lamp on or off (overrides the photocell until the next dusk)',
      params: { on: { kind: 'boolean', description: 'true = on' } },
      typicalDurationS: 1,
    },
  },
  building_hvac: {
    set_supply_setpoint: {
      description:
        'Change the supply-air temperature setpoint; the supply air follows over minutes',
      params: {
        setpoint_c: {
          kind: 'number',
          unit: 'celsius',
          min: 12,
          max: 30,
          description: 'Supply-air setpoint',
        },
      },
      typicalDurationS: 2,
    },
    set_mode: {
      description: 'Change the operating mode of the air-handling unit',
      params: {
        mode: {
          kind: 'enum',
          values: ['off', 'cooling', 'heating', 'fan_only', 'economiser'],
          description: 'Operating mode',
        },
      },
      typicalDurationS: 2,
    },
  },
  bsl_laboratory: {
    start_decontamination: {
      description:
        'Seal the laboratory and run a decontamination cycle (refused while a door is open or containment is lost)',
      params: {
        duration_min: {
          kind: 'number',
          unit: 'm',
          min: 30,
          max: 480,
          integer: true,
          description: 'Cycle length, minutes',
        },
      },
      typicalDurationS: 5,
    },
    end_decontamination: {
      description: 'End the decontamination cycle and return to operational mode',
      params: {},
      typicalDurationS: 3,
    },
  },
  cnc_machine: {
    stop: {
      description: 'Controlled stop at the end of the current block: the machine goes idle',
      params: {},
      typicalDurationS: 2,
    },
    start: {
      description: 'Resume production (refused in fault or maintenance)',
      params: {},
      typicalDurationS: 2,
    },
  },
  ultra_low_freezer: {
    set_setpoint: {
      description: 'Change the cabinet setpoint; the cabinet temperature follows',
      params: {
        setpoint_c: {
          kind: 'number',
          unit: 'celsius',
          min: -86,
          max: -60,
          description: 'Cabinet setpoint',
        },
      },
      typicalDurationS: 1,
    },
  },
  ev_charger: {
    set_power_limit: {
      description: 'Cap the charging power (load management)',
      params: {
        limit_kw: {
          kind: 'number',
          unit: 'kwatt',
          min: 0,
          max: 350,
          description: 'Maximum output power',
        },
      },
      typicalDurationS: 1,
    },
    stop_session: {
      description: 'End the current charging session (refused when no vehicle is charging)',
      params: {},
      typicalDurationS: 2,
    },
  },
};

/** The commands an asset type accepts (empty when it accepts none). */
export function commandsOf(assetType: string): Readonly<Record<string, CommandSpec>> {
  return Object.hasOwn(ASSET_COMMANDS, assetType) ? ASSET_COMMANDS[assetType]! : {};
}
