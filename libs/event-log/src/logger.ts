/**
 * The event-log's logging seam: JSON lines by default, never payloads (personal data), only
 * event ids, types, partitions and offsets. Services pass their own logger to route elsewhere.
 */
export interface Logger {
  log(msg: string, ctx?: object): void;
  warn(msg: string, ctx?: object): void;
  error(msg: string, ctx?: object): void;
}

type Level = 'info' | 'warn' | 'error';

// Citizen IDs (18 characters) and mobile numbers (11 digits) may leak into error messages
// thrown by handlers or drivers; they are masked before a line is written.
const CITIZEN_ID = /(?<![\dA-Za-z])(\d{6})\d{11}([\dXx])(?![\dA-Za-z])/g;
const MOBILE = /(?<!\d)(1\d{2})\d{4}(\d{4})(?!\d)/g;

export function maskPersonalData(text: string): string {
  return text.replace(CITIZEN_ID, '$1***********$2').replace(MOBILE, '$1****$2');
}

function maskValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return maskPersonalData(value);
  if (value instanceof Error) return { name: value.name, message: maskPersonalData(value.message) };
  if (depth > 4 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => maskValue(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = maskValue(v, depth + 1);
  return out;
}

export function jsonLogger(component = 'event-log', write: (line: string) => void = (l) => process.stdout.write(l)): Logger {
  const emit = (level: Level, msg: string, ctx?: object): void => {
    const line = {
      time: new Date().toISOString(),
      level,
      component,
      msg: maskPersonalData(msg),
      ...(ctx ? (maskValue(ctx) as object) : {}),
    };
    write(`${JSON.stringify(line)}\n`);
  };
  return {
    log: (msg, ctx) => emit('info', msg, ctx),
    warn: (msg, ctx) => emit('warn', msg, ctx),
    error: (msg, ctx) => emit('error', msg, ctx),
  };
}

export const silentLogger: Logger = { log: () => undefined, warn: () => undefined, error: () => undefined };

/** Drops info lines; for tests and tools that only want to see trouble. */
export function quietLogger(inner: Logger = jsonLogger()): Logger {
  return { log: () => undefined, warn: (m, c) => inner.warn(m, c), error: (m, c) => inner.error(m, c) };
}

export function errorInfo(e: unknown): { error: string; message: string } {
  if (e instanceof Error) return { error: e.name, message: maskPersonalData(e.message) };
  return { error: typeof e, message: maskPersonalData(String(e)) };
}
