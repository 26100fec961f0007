import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';

/** Maps each config property to the environment variable it is read from. */
export type EnvMap<T> = { [K in keyof T]?: string };

/** Variables whose values are secrets: named in a refusal, never shown. */
const SECRET_VARIABLE = /TOKEN|SECRET|PASSWORD/;

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = ConfigError.name;
  }
}

/**
 * Reads a typed configuration once, from environment variables, and validates it. Fails fast with a
 * message naming each offending variable and what it must be. Properties without a variable keep the
 * class's default.
 */
export function loadConfig<T extends object>(
  cls: new () => T,
  envMap: EnvMap<T>,
  env: NodeJS.ProcessEnv = process.env,
): T {
  const defaults = new cls();
  const raw: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
  for (const [prop, variable] of Object.entries(envMap) as [string, string][]) {
    const value = env[variable];
    if (value !== undefined && value !== '') raw[prop] = value;
  }
  const config = plainToInstance(cls, raw, { enableImplicitConversion: true });
  const errors = validateSync(config, { forbidUnknownValues: false });
  if (errors.length > 0) {
    const lines = errors.map((e) => {
      const variable = (envMap as Record<string, string>)[e.property];
      const what = Object.values(e.constraints ?? {}).join('; ');
      // A secret's value is never repeated in the message (it may end up in a log).
      const shown =
        variable && SECRET_VARIABLE.test(variable) ? '(hidden)' : JSON.stringify(env[variable] ?? '');
      return variable ? `  ${variable}=${shown}: ${what}` : `  ${e.property}: ${what}`;
    });
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  return config;
}
