import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { DATA_DIR_VAR, MAIL_DIR_VAR, MAIL_PID_VAR, SERVER_PID_VAR } from './server';
import { serverHandle } from './global-setup';

const STOP_TIMEOUT_MS = 10_000;

/**
 * Stops the server and maildev that global setup started, and removes their
 * directories (unless GATEHOUSE_E2E_KEEP_DATA is set).
 */
export default async function globalTeardown(): Promise<void> {
  await stop(serverHandle.child, process.env[SERVER_PID_VAR]);
  await stop(serverHandle.mail, process.env[MAIL_PID_VAR]);
  if (process.env.GATEHOUSE_E2E_KEEP_DATA) return;
  for (const dir of [
    serverHandle.dataDir ?? process.env[DATA_DIR_VAR],
    serverHandle.mailDir ?? process.env[MAIL_DIR_VAR],
  ]) {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Stops the child (or, when only its pid is known, that process): SIGTERM, then SIGKILL. */
async function stop(child: ChildProcess | undefined, pidText: string | undefined): Promise<void> {
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
  const pid = Number(pidText || 0);
  if (!pid || !signal(pid, 'SIGTERM')) return;
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (!signal(pid, 0)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  signal(pid, 'SIGKILL');
}

/** Sends `sig` to `pid`; false once there is no such process. */
function signal(pid: number, sig: NodeJS.Signals | 0): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}
