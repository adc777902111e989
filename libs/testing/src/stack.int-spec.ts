import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'fs';
import { createServer } from 'http';
import type { Server } from 'http';
import { tmpdir } from 'os';
import { join } from 'path';
import { freeServicePort } from './infrastructure';
import { PortInUseError, startService, startStack } from './stack';

/**
 * Starting services where a port is taken (a second `npm run demo` beside the first): refused at once
 * with the port named and what to do, nothing spawned, and no log file of the running stack truncated.
 * The port is held by an HTTP server that answers /health 200, as the first demo's service does: a
 * health wait that accepted any answer would report the foreign service as started.
 */
describe('starting services on a port already in use', () => {
  const servers: Server[] = [];
  const occupy = async (port: number): Promise<void> => {
    const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok","checks":{}}'));
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(port, '0.0.0.0', resolve));
  };

  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  });

  it('startService refuses a taken port at once, naming it and what to do; the log file of the one running is left whole', async () => {
    const port = await freeServicePort();
    await occupy(port);
    const logDir = mkdtempSync(join(tmpdir(), 'qmcb-stack-'));
    writeFileSync(join(logDir, 'comparison.log'), 'the running service wrote this\n');
    const started = startService('comparison', { env: {}, port, logDir, portHint: 'stop it or pick another port' });
    await expect(started).rejects.toThrow(new PortInUseError(port, 'comparison', 'stop it or pick another port'));
    await expect(started).rejects.toThrow(`port ${port} (comparison) is in use (another demo or stack running?): stop it or pick another port`);
    expect(readFileSync(join(logDir, 'comparison.log'), 'utf8')).toBe('the running service wrote this\n');
  });

  it('startService refuses a taken management port (+1000) the same way', async () => {
    const port = await freeServicePort();
    await occupy(port + 1000);
    const logDir = mkdtempSync(join(tmpdir(), 'qmcb-stack-'));
    await expect(startService('review', { env: {}, port, logDir })).rejects.toThrow(
      `port ${port + 1000} (review management) is in use (another demo or stack running?): stop whatever listens there (\`ss -ltnp\` shows it), or start on other ports (\`ports\`, freeServicePorts())`,
    );
    expect(existsSync(join(logDir, 'review.log'))).toBe(false);
  });

  it('startStack refuses before starting any service, and truncates no log of the stack already there', async () => {
    const ports = { comparison: await freeServicePort(), 'survey-tasking': await freeServicePort(), review: await freeServicePort(), 'dynamic-update': await freeServicePort() };
    await occupy(ports.review);
    const logDir = mkdtempSync(join(tmpdir(), 'qmcb-stack-'));
    for (const name of Object.keys(ports)) writeFileSync(join(logDir, `${name}.log`), `${name} of the first demo\n`);
    await expect(startStack({ env: () => ({}), logDir, ports, portHint: 'stop the first demo' })).rejects.toThrow(
      `port ${ports.review} (review) is in use (another demo or stack running?): stop the first demo`,
    );
    for (const name of Object.keys(ports)) expect(readFileSync(join(logDir, `${name}.log`), 'utf8')).toBe(`${name} of the first demo\n`);
    // None of the others was started either.
    for (const name of ['comparison', 'survey-tasking', 'dynamic-update'] as const) {
      await expect(fetch(`http://127.0.0.1:${ports[name]}/health`)).rejects.toThrow('fetch failed');
    }
  });

  it('the health wait fails as soon as the process it started exits, appending to its log', async () => {
    const port = await freeServicePort();
    const logDir = mkdtempSync(join(tmpdir(), 'qmcb-stack-'));
    writeFileSync(join(logDir, 'comparison.log'), 'an earlier run\n');
    // No secrets: the service refuses to start (its configuration has no defaults) and exits.
    const env = { AUTH_JWT_SECRET: '', API_KEY_SECRET: '', PERSON_ID_SECRET: '' };
    await expect(startService('comparison', { env, port, logDir, startTimeoutMs: 600_000 })).rejects.toThrow(
      `http://127.0.0.1:${port}: the service's process exited with 1 before it was healthy; see ${join(logDir, 'comparison.log')}`,
    );
    const log = readFileSync(join(logDir, 'comparison.log'), 'utf8');
    expect(log.startsWith(`an earlier run\n--- `)).toBe(true);
    expect(log).toContain(`comparison starting on port ${port} (management ${port + 1000}) ---\n`);
  });
});

