import type { LogLevel, LoggerService } from '@nestjs/common';
import { maskPersonalData, maskText } from './mask';

export const LOG_LEVELS: readonly LogLevel[] = ['verbose', 'debug', 'log', 'warn', 'error', 'fatal'];

export interface JsonLoggerOptions {
  /** Added to every line as `service`. */
  service?: string;
  /** Lowest level written; default `LOG_LEVEL` from the environment, else `log`. */
  level?: LogLevel;
  /** Where lines go; default stdout (error and fatal to stderr). */
  write?: (line: string, level: LogLevel) => void;
  /** The clock, for tests. */
  now?: () => Date;
}

const RESERVED = new Set(['level', 'time', 'service', 'context', 'msg']);
const STACK_LIKE = /\n\s+at /;

function isLogLevel(value: unknown): value is LogLevel {
  return typeof value === 'string' && (LOG_LEVELS as readonly string[]).includes(value);
}

function defaultWrite(line: string, level: LogLevel): void {
  (level === 'error' || level === 'fatal' ? process.stderr : process.stdout).write(`${line}\n`);
}

/**
 * Nest's LoggerService as JSON lines `{ level, time, service?, context, msg, ...ctx }`, with every
 * string and context object passed through maskPersonalData. Log with a context object, never a
 * string built from data: `logger.log({ msg: 'applied', personKey, offset })`.
 */
export class JsonLogger implements LoggerService {
  private enabled: Set<LogLevel>;
  private readonly write: (line: string, level: LogLevel) => void;
  private readonly now: () => Date;

  constructor(private readonly options: JsonLoggerOptions = {}) {
    const envLevel = process.env['LOG_LEVEL'];
    const level = options.level ?? (isLogLevel(envLevel) ? envLevel : 'log');
    this.enabled = new Set(LOG_LEVELS.slice(LOG_LEVELS.indexOf(level)));
    this.write = options.write ?? defaultWrite;
    this.now = options.now ?? (() => new Date());
  }

  setLogLevels(levels: LogLevel[]): void {
    this.enabled = new Set(levels);
  }

  isLevelEnabled(level: LogLevel): boolean {
    return this.enabled.has(level);
  }

  log(message: unknown, ...optionalParams: unknown[]): void {
    this.emit('log', message, optionalParams);
  }

  error(message: unknown, ...optionalParams: unknown[]): void {
    this.emit('error', message, optionalParams);
  }

  warn(message: unknown, ...optionalParams: unknown[]): void {
    this.emit('warn', message, optionalParams);
  }

  debug(message: unknown, ...optionalParams: unknown[]): void {
    this.emit('debug', message, optionalParams);
  }

  verbose(message: unknown, ...optionalParams: unknown[]): void {
    this.emit('verbose', message, optionalParams);
  }

  fatal(message: unknown, ...optionalParams: unknown[]): void {
    this.emit('fatal', message, optionalParams);
  }

  private emit(level: LogLevel, message: unknown, optionalParams: unknown[]): void {
    if (!this.enabled.has(level)) return;
    const params = [...optionalParams];
    // Nest appends the logger's context as the last string argument.
    let context: string | undefined;
    const last = params[params.length - 1];
    if (typeof last === 'string' && !STACK_LIKE.test(last)) {
      context = last;
      params.pop();
    }
    const ctx: Record<string, unknown> = {};
    let msg = '';
    if (typeof message === 'string') msg = message;
    else if (message instanceof Error) {
      msg = message.message;
      ctx['err'] = message;
    } else if (typeof message === 'object' && message !== null) {
      const { msg: m, message: mm, ...rest } = message as Record<string, unknown>;
      msg = typeof m === 'string' ? m : typeof mm === 'string' ? mm : '';
      Object.assign(ctx, rest);
    } else msg = String(message);

    const extra: unknown[] = [];
    for (const p of params) {
      if (typeof p === 'string' && STACK_LIKE.test(p)) ctx['stack'] = p;
      else if (p instanceof Error) ctx['err'] = p;
      else if (typeof p === 'object' && p !== null && !Array.isArray(p)) Object.assign(ctx, p);
      else if (p !== undefined) extra.push(p);
    }
    if (extra.length) ctx['args'] = extra;

    const line: Record<string, unknown> = { level, time: this.now().toISOString() };
    if (this.options.service) line['service'] = this.options.service;
    if (context) line['context'] = context;
    line['msg'] = maskText(msg);
    const masked = maskPersonalData(ctx) as Record<string, unknown>;
    for (const [k, v] of Object.entries(masked)) line[RESERVED.has(k) ? `ctx_${k}` : k] = v;
    let text: string;
    try {
      text = JSON.stringify(line);
    } catch {
      text = JSON.stringify({ level, time: line['time'], context, msg: line['msg'], ctx_unserializable: true });
    }
    this.write(text, level);
  }
}
