import { PeriodicTask, intervalFromEnv } from './periodic-task';

/** A promise whose resolution the test decides. */
function gate<T>(): { promise: Promise<T>; open: (v: T) => void; fail: (e: unknown) => void } {
  let open!: (v: T) => void;
  let fail!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    open = res;
    fail = rej;
  });
  return { promise, open, fail };
}

describe('PeriodicTask', () => {
  it('joins a run in flight instead of starting a second one, and runs again once it is over', async () => {
    const gates = [gate<number>(), gate<number>()];
    let calls = 0;
    const task = new PeriodicTask(() => gates[calls++].promise);
    const first = task.run();
    const joined = task.run();
    expect(calls).toBe(1);
    gates[0].open(7);
    await expect(first).resolves.toBe(7);
    await expect(joined).resolves.toBe(7);
    const second = task.run();
    expect(calls).toBe(2);
    gates[1].open(9);
    await expect(second).resolves.toBe(9);
  });

  it('hands a failed tick to onError and runs at the next tick', async () => {
    jest.useFakeTimers();
    try {
      const errors: unknown[] = [];
      let calls = 0;
      const task = new PeriodicTask(async () => {
        calls += 1;
        if (calls === 1) throw new Error('database away');
        return calls;
      }, (e) => errors.push(e));
      task.start(1_000, { immediately: false });
      expect(calls).toBe(0);
      await jest.advanceTimersByTimeAsync(1_000);
      expect(calls).toBe(1);
      expect(errors).toEqual([new Error('database away')]);
      await jest.advanceTimersByTimeAsync(1_000);
      expect(calls).toBe(2);
      expect(errors).toHaveLength(1);
      await task.stop();
      await jest.advanceTimersByTimeAsync(5_000);
      expect(calls).toBe(2);
    } finally {
      jest.useRealTimers();
    }
  });

  it('runs at once when started, and not at all for an interval of 0', async () => {
    let calls = 0;
    const off = new PeriodicTask(async () => {
      calls += 1;
    });
    off.start(0);
    expect(calls).toBe(0);
    const on = new PeriodicTask(async () => {
      calls += 1;
    });
    on.start(60_000);
    expect(calls).toBe(1);
    await on.stop();
  });

  it('stop waits for the run in flight and does not throw its failure', async () => {
    const g = gate<void>();
    const task = new PeriodicTask(() => g.promise);
    const run = task.run();
    let stopped = false;
    const stopping = task.stop().then(() => (stopped = true));
    await Promise.resolve();
    expect(stopped).toBe(false);
    g.fail(new Error('late failure'));
    await stopping;
    expect(stopped).toBe(true);
    await expect(run).rejects.toThrow('late failure');
  });
});

describe('intervalFromEnv', () => {
  it('reads whole milliseconds, 0 for off, the fallback when unset, and refuses anything else', () => {
    expect(intervalFromEnv('X', 500, {})).toBe(500);
    expect(intervalFromEnv('X', 500, { X: '0' })).toBe(0);
    expect(intervalFromEnv('X', 500, { X: '2500' })).toBe(2500);
    expect(() => intervalFromEnv('X', 500, { X: '-1' })).toThrow('X must be a whole number of milliseconds, got "-1"');
    expect(() => intervalFromEnv('X', 500, { X: '1.5' })).toThrow('X must be a whole number of milliseconds, got "1.5"');
  });
});
