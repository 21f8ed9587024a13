import fs from 'node:fs';
import path from 'node:path';
import type { TestInfo } from '@playwright/test';
import * as OTPAuth from 'otpauth';
import { serverInfo } from './server';

/**
 * The administrator's authenticator app. The first-run journey reads the key from
 * the enrolment page and keeps it here (a file in the server's data directory, so
 * every spec after it finds it); sign-ins take codes from it.
 *
 * The server accepts each 30-second step once and allows one step of drift either
 * way, while the suite signs in faster than once a step: each code is for the
 * earliest step not used yet among the three the server accepts, and when all three
 * are used it waits for the next step (lengthening the test's timeout by the wait).
 */
const STEP_SECONDS = 30;

interface Kept {
  key: string;
  lastStep: number;
}

function file(): string {
  return path.join(serverInfo().dataDir, 'e2e-authenticator.json');
}

function totp(key: string): OTPAuth.TOTP {
  return new OTPAuth.TOTP({
    algorithm: 'SHA1',
    digits: 6,
    period: STEP_SECONDS,
    secret: OTPAuth.Secret.fromBase32(key.replace(/\s+/g, '')),
  });
}

function stepAt(milliseconds: number): number {
  return Math.floor(milliseconds / 1000 / STEP_SECONDS);
}

/** Keeps the key the enrolment page showed; returns the code to confirm it with. */
export function enrolAuthenticator(key: string): string {
  const step = stepAt(Date.now());
  fs.writeFileSync(file(), JSON.stringify({ key, lastStep: step } satisfies Kept));
  return totp(key).generate({ timestamp: step * STEP_SECONDS * 1000 });
}

/** The next code the server will accept, waiting for a fresh step when needed. */
export async function nextCode(testInfo: TestInfo): Promise<string> {
  const kept = JSON.parse(fs.readFileSync(file(), 'utf8')) as Kept;
  for (;;) {
    const now = Date.now();
    const step = stepAt(now);
    const intoStep = now / 1000 - step * STEP_SECONDS;
    // The step before is only safe while this one has a while to run.
    const earliest = intoStep < STEP_SECONDS - 5 ? step - 1 : step;
    const candidate = Math.max(kept.lastStep + 1, earliest);
    if (candidate <= step + 1) {
      fs.writeFileSync(file(), JSON.stringify({ ...kept, lastStep: candidate } satisfies Kept));
      return totp(kept.key).generate({ timestamp: candidate * STEP_SECONDS * 1000 });
    }
    const wait = ((candidate - 1) * STEP_SECONDS + 1) * 1000 - now;
    testInfo.setTimeout(testInfo.timeout + wait);
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}
