import type { FullConfig } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  BASE_URL_VAR,
  DATA_DIR_VAR,
  MAIL_DIR_VAR,
  MAIL_PID_VAR,
  MAIL_URL_VAR,
  SERVER_PID_VAR,
  SETUP_LINK_VAR,
} from './server';

/**
 * Starts the release build of Gatehouse for the run:
 *   - on a free port, with a fresh data directory (so a fresh SQLite database);
 *   - reads the one-time setup link it prints on an empty database;
 *   - waits until GET /ready answers 200;
 *   - before it, starts maildev (a real SMTP server with a JSON API) on free ports,
 *     and points the server's outbox at it (GATEHOUSE_SMTP_URL).
 *
 * Inputs: GATEHOUSE_BIN (default $CARGO_TARGET_DIR/release/gatehouse, with
 * CARGO_TARGET_DIR defaulting to ~/.cache/gatehouse/target) and GATEHOUSE_SITE_ROOT
 * (default <repo>/target/site). The server's output goes to
 * test-results/gatehouse-server.log, maildev's to test-results/maildev.log.
 */
const STARTUP_TIMEOUT_MS = 30_000;
const SETUP_LINK = /(http:\/\/127\.0\.0\.1:\d+\/setup\/[0-9a-f]{64})(?![0-9a-f])/;

/** Kept for global teardown, which runs in this same runner process. */
export interface ServerHandle {
  child?: ChildProcess;
  dataDir?: string;
  mail?: ChildProcess;
  mailDir?: string;
}
export const serverHandle: ServerHandle = ((globalThis as { __gatehouseServer?: ServerHandle }).__gatehouseServer ??=
  {});

export default async function globalSetup(config: FullConfig): Promise<void> {
  const configDir = config.configFile ? path.dirname(config.configFile) : path.resolve(__dirname, '..', '..');
  const repoDir = path.dirname(configDir);
  const targetDir = process.env.CARGO_TARGET_DIR || path.join(os.homedir(), '.cache', 'gatehouse', 'target');
  const bin = process.env.GATEHOUSE_BIN || path.join(targetDir, 'release', 'gatehouse');
  const siteRoot = process.env.GATEHOUSE_SITE_ROOT || path.join(repoDir, 'target', 'site');

  const buildHint =
    'Build it first: `scripts/build.sh` in the repository, ' +
    'or point GATEHOUSE_BIN / GATEHOUSE_SITE_ROOT at a build.';
  if (!isExecutable(bin)) throw new Error(`No Gatehouse server binary at ${bin}. ${buildHint}`);
  if (!fs.existsSync(path.join(siteRoot, 'pkg'))) {
    throw new Error(`No built browser files at ${siteRoot}/pkg. ${buildHint}`);
  }

  const outputDir = path.join(configDir, 'test-results');
  fs.mkdirSync(outputDir, { recursive: true });
  const logPath = path.join(outputDir, 'gatehouse-server.log');
  const log = fs.createWriteStream(logPath);

  const [port, smtpPort, mailWebPort] = await freePorts(3);
  const baseURL = `http://127.0.0.1:${port}`;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-e2e-'));
  const mail = await startMaildev(configDir, outputDir, smtpPort, mailWebPort);

  // Settings come only from what is set here: a developer's own GATEHOUSE_* variables
  // (or a gatehouse.toml in the working directory) must not reach the test server.
  const env: NodeJS.ProcessEnv = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('GATEHOUSE_')),
  );
  Object.assign(env, {
    GATEHOUSE_DATA_DIR: dataDir,
    GATEHOUSE_BIND_ADDRESS: `127.0.0.1:${port}`,
    GATEHOUSE_PUBLIC_URL: baseURL,
    GATEHOUSE_SITE_ROOT: siteRoot,
    GATEHOUSE_SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
    // The test's relying parties listen on this machine.
    GATEHOUSE_ALLOW_PRIVATE_CALLBACKS: 'true',
    // GATEHOUSE_E2E_RUST_LOG=debug (say) for a more detailed server log.
    RUST_LOG: process.env.GATEHOUSE_E2E_RUST_LOG || 'info',
  });

  const child = spawn(bin, ['serve'], { cwd: dataDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  serverHandle.child = child;
  serverHandle.dataDir = dataDir;
  // If the runner dies without running teardown, do not leave the server behind.
  process.once('exit', () => child.kill('SIGKILL'));

  let output = '';
  let setupLink: string | undefined;
  let exited: string | undefined;
  let spawnError: Error | undefined;
  child.stdout!.on('data', (chunk: Buffer) => {
    const text = chunk.toString();
    output += text;
    log.write(text);
    setupLink ??= SETUP_LINK.exec(output)?.[1];
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    log.write(chunk);
  });
  child.on('error', (error) => (spawnError = error));
  child.on('exit', (code, signal) => (exited = signal ? `signal ${signal}` : `exit code ${code}`));

  const fail = (reason: string): never => {
    child.kill('SIGKILL');
    mail.child.kill('SIGKILL');
    throw new Error(
      `Gatehouse (${bin}) did not start: ${reason}.\n--- its output (also in ${logPath}) ---\n${output}`,
    );
  };

  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  let ready = false;
  while (!(ready && setupLink)) {
    if (spawnError) fail(spawnError.message);
    if (exited) fail(`it stopped with ${exited}`);
    if (Date.now() > deadline) {
      fail(
        `after ${STARTUP_TIMEOUT_MS / 1000} s, ${ready ? '' : 'GET /ready did not answer 200'}` +
          `${!ready && !setupLink ? ' and ' : ''}${setupLink ? '' : 'it printed no setup link'}`,
      );
    }
    if (!ready) ready = await answers(`${baseURL}/ready`);
    if (!(ready && setupLink)) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (!setupLink!.startsWith(`${baseURL}/`)) fail(`its setup link ${setupLink} is not on ${baseURL}`);

  process.env[BASE_URL_VAR] = baseURL;
  process.env[SETUP_LINK_VAR] = setupLink;
  process.env[SERVER_PID_VAR] = String(child.pid);
  process.env[DATA_DIR_VAR] = dataDir;
  process.env[MAIL_URL_VAR] = mail.webURL;
  process.env[MAIL_PID_VAR] = String(mail.child.pid);
  process.env[MAIL_DIR_VAR] = mail.mailDir;
  fs.writeFileSync(
    path.join(outputDir, 'gatehouse-server.json'),
    JSON.stringify(
      {
        baseURL,
        setupLink,
        pid: child.pid,
        dataDir,
        database: path.join(dataDir, 'gatehouse.db'),
        bin,
        siteRoot,
        log: logPath,
        maildev: {
          smtpPort,
          webPort: mailWebPort,
          webURL: mail.webURL,
          pid: mail.child.pid,
          mailDir: mail.mailDir,
          log: mail.logPath,
        },
      },
      null,
      2,
    ),
  );
}

/**
 * Starts maildev (end2end's devDependency) on 127.0.0.1 and waits until its API
 * answers. It keeps the messages' .eml files in a fresh directory of its own.
 */
async function startMaildev(configDir: string, outputDir: string, smtpPort: number, webPort: number) {
  const bin = path.join(configDir, 'node_modules', '.bin', 'maildev');
  if (!isExecutable(bin)) throw new Error(`No maildev at ${bin}: run \`npm ci\` in end2end/.`);
  const mailDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-e2e-mail-'));
  const logPath = path.join(outputDir, 'maildev.log');
  const log = fs.createWriteStream(logPath);
  const webURL = `http://127.0.0.1:${webPort}`;
  const args = [
    '--smtp', String(smtpPort),
    '--web', String(webPort),
    '--ip', '127.0.0.1',
    '--web-ip', '127.0.0.1',
    '--mail-directory', mailDir,
    '--silent',
  ]; // prettier-ignore
  const child = spawn(bin, args, { cwd: mailDir, stdio: ['ignore', 'pipe', 'pipe'] });
  serverHandle.mail = child;
  serverHandle.mailDir = mailDir;
  process.once('exit', () => child.kill('SIGKILL'));

  let output = '';
  let exited: string | undefined;
  let spawnError: Error | undefined;
  for (const stream of [child.stdout!, child.stderr!]) {
    stream.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      log.write(chunk);
    });
  }
  child.on('error', (error) => (spawnError = error));
  child.on('exit', (code, signal) => (exited = signal ? `signal ${signal}` : `exit code ${code}`));

  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  while (!(await answers(`${webURL}/api/email`))) {
    const reason = spawnError
      ? spawnError.message
      : exited
        ? `it stopped with ${exited}`
        : Date.now() > deadline
          ? `GET ${webURL}/api/email did not answer within ${STARTUP_TIMEOUT_MS / 1000} s`
          : undefined;
    if (reason) {
      child.kill('SIGKILL');
      throw new Error(`maildev (${bin}) did not start: ${reason}.\n--- its output ---\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { child, webURL, mailDir, logPath };
}

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    return response.status === 200;
  } catch {
    return false;
  }
}

/**
 * `count` different ports the system just gave out for 127.0.0.1, released for the
 * servers to take (all held open together, so they differ).
 */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<net.Server>((resolve, reject) => {
          const server = net.createServer();
          server.unref();
          server.on('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((server) => (server.address() as net.AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}
