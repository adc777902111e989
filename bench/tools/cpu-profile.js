/**
 * CPU profile of a service process that is stopped with SIGTERM (Nest's shutdown hooks re-raise the
 * signal, so `node --cpu-prof` never writes its file). Preload it for one service only:
 *   NODE_OPTIONS="--require <repo>/bench/tools/cpu-profile.js" CPU_PROFILE_DIR=/tmp/prof
 * The profile (Chrome .cpuprofile) is written on SIGTERM/SIGINT, at exit, and on SIGUSR2 (which
 * starts a new one). Aggregate it with `node bench/tools/profile-summary.js <file>`.
 */
'use strict';
const inspector = require('inspector');
const fs = require('fs');
const path = require('path');

const dir = process.env.CPU_PROFILE_DIR;
if (dir) {
  fs.mkdirSync(dir, { recursive: true });
  const session = new inspector.Session();
  session.connect();
  let n = 0;
  let done = false;
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: Number(process.env.CPU_PROFILE_INTERVAL_US || 1000) });
  session.post('Profiler.start');
  const write = (restart) => {
    if (done) return;
    // A same-thread session answers synchronously.
    session.post('Profiler.stop', (err, result) => {
      if (err || !result) return;
      n += 1;
      const file = path.join(dir, `${process.env.CPU_PROFILE_NAME || 'profile'}-${process.pid}-${n}.cpuprofile`);
      fs.writeFileSync(file, JSON.stringify(result.profile));
      process.stderr.write(`cpu profile written: ${file}\n`);
    });
    if (restart) session.post('Profiler.start');
    else done = true;
  };
  process.on('SIGUSR2', () => write(true));
  for (const signal of ['SIGTERM', 'SIGINT']) process.prependListener(signal, () => write(false));
  process.on('exit', () => write(false));
}
