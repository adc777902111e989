import 'reflect-metadata';

const SECRETS_KEY = Symbol('qmcb:config:secrets');

/** Marks a config property as secret: its value is never printed (config errors, redactConfig). */
export function Secret(): PropertyDecorator {
  return (target, propertyKey) => {
    const inherited = (Reflect.getMetadata(SECRETS_KEY, target) as string[] | undefined) ?? [];
    Reflect.defineMetadata(SECRETS_KEY, [...inherited, String(propertyKey)], target);
  };
}

export function secretKeysOf(cls: abstract new () => object): string[] {
  return (Reflect.getMetadata(SECRETS_KEY, cls.prototype as object) as string[] | undefined) ?? [];
}

/** The config as a plain object with secrets replaced, e.g. to log it at start. */
export function redactConfig<T extends object>(config: T): Record<string, unknown> {
  const secrets = new Set(secretKeysOf(config.constructor as new () => object));
  return Object.fromEntries(Object.entries(config).map(([k, v]) => [k, secrets.has(k) ? '[secret]' : v]));
}
