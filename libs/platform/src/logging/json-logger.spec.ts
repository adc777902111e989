import { Logger } from '@nestjs/common';
import { JsonLogger } from './json-logger';

function capture(level: 'log' | 'debug' = 'log'): { logger: JsonLogger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = new JsonLogger({
    service: 'review',
    level,
    now: () => new Date('2030-01-01T00:00:00Z'),
    write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>),
  });
  return { logger, lines };
}

describe('JsonLogger', () => {
  it('writes one masked JSON line with level, time, context, msg and the context object', () => {
    const { logger, lines } = capture();
    logger.log({ msg: 'read 44098119850315123X', personKey: '44098119850315123X', offset: 7 }, 'PersonReader');
    expect(lines).toEqual([
      {
        level: 'log',
        time: '2030-01-01T00:00:00.000Z',
        service: 'review',
        context: 'PersonReader',
        msg: 'read 440981********123X',
        personKey: '440981********123X',
        offset: 7,
      },
    ]);
  });

  it("works as Nest's logger, including error stacks and level filtering", () => {
    const { logger, lines } = capture();
    Logger.overrideLogger(logger);
    try {
      const nest = new Logger('Ctx');
      nest.debug('hidden');
      nest.warn('careful', { phone: '13812345678' });
      nest.error('boom', 'Error: boom\n    at x (y.ts:1:1)');
    } finally {
      Logger.overrideLogger(false);
    }
    expect(lines).toEqual([
      expect.objectContaining({ level: 'warn', context: 'Ctx', msg: 'careful', phone: '138****5678' }),
      expect.objectContaining({ level: 'error', context: 'Ctx', msg: 'boom', stack: 'Error: boom\n    at x (y.ts:1:1)' }),
    ]);
  });

  it('never lets a context object overwrite the fixed fields', () => {
    const { logger, lines } = capture();
    logger.warn({ msg: 'm', level: 'fatal', time: 'x' });
    expect(lines[0]).toMatchObject({ level: 'warn', msg: 'm', ctx_level: 'fatal', ctx_time: 'x' });
  });
});
