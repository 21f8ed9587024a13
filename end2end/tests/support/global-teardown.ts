import fs from 'node:fs';
import { DATA_DIR_VAR, SERVER_PID_VAR } from './server';
import { serverHandle } from './global-setup';

const STOP_TIMEOUT_MS = 10_000;

/** Stops the server global setup started and removes its data directory. */
export default async function globalTeardown(): Promise<void> {
  await stopServer();
  const dataDir = serverHandle.dataDir ?? process.env[DATA_DIR_VAR];
  if (dataDir && !process.env.GATEHOUSE_E2E_KEEP_DATA) {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

async function stopServer(): Promise<void> {
  const child = serverHandle.child;
  if (child) {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<boolean>((resolve) => {
      child.once('exit', () => resolve(true));
      setTimeout(() => resolve(false), STOP_TIMEOUT_MS).unref();
    });
    child.kill('SIGTERM');
    if (!(await exited)) child.kill('SIGKILL');
    return;
  }
  // Only the pid is known (e.g. setup and teardown were loaded separately).
  const pid = Number(process.env[SERVER_PID_VAR] || 0);
  if (!pid || !signal(pid, 'SIGTERM')) return;
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (!signal(pid, 0)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  signal(pid, 'SIGKILL');
}

/** Sends `sig` to the server's pid; false once there is no such process. */
function signal(pid: number, sig: NodeJS.Signals | 0): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}
