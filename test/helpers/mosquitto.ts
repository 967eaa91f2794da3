// A real Mosquitto broker for a test, on a free 127.0.0.1 port, with persistence in a temporary
// directory so a restart keeps queued QoS 1 messages and persistent sessions. Started and stopped
// by the test; never assumed running.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { existsSync } from 'node:fs';

// Debian installs it in /usr/sbin, which is not on every user's PATH.
const MOSQUITTO = existsSync('/usr/sbin/mosquitto') ? '/usr/sbin/mosquitto' : 'mosquitto';

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface Mosquitto {
  url: string;
  port: number;
  /** Stops the broker (SIGTERM: it saves its database) and starts it again on the same port. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startMosquitto(): Promise<Mosquitto> {
  const dir = await mkdtemp(join(tmpdir(), 'gru-mosquitto-'));
  // Run as root, mosquitto drops to its own user; that user must be able to write the database.
  await chmod(dir, 0o777);
  const port = await freePort();
  const config = join(dir, 'mosquitto.conf');
  await writeFile(config, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence true\npersistence_location ${dir}/\n`);
  let child: ChildProcess | null = null;
  const launch = async (): Promise<void> => {
    const proc = spawn(MOSQUITTO, ['-c', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = proc;
    let log = '';
    // Mosquitto logs to stderr; the listening line means the port is bound.
    await new Promise<void>((resolve, reject) => {
      proc.stderr!.on('data', (d) => {
        log += d;
        if (log.includes(' running')) resolve();
      });
      proc.once('exit', (code) => reject(new Error(`mosquitto exited (${code}): ${log}`)));
      proc.once('error', reject);
    });
  };
  const halt = async (): Promise<void> => {
    const proc = child;
    child = null;
    if (!proc || proc.exitCode !== null) return;
    const gone = once(proc, 'exit');
    proc.kill('SIGTERM');
    await gone;
  };
  await launch();
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    async restart() {
      await halt();
      await launch();
    },
    async stop() {
      await halt();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
