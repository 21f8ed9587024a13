import fs from 'node:fs';
import path from 'node:path';
import * as OTPAuth from 'otpauth';
import { forgetUsedStep } from './database';
import { serverInfo } from './server';

/**
 * The administrator's authenticator app. The first-run journey reads the key from
 * the enrolment page and keeps it here (a file in the server's data directory, so
 * every spec after it finds it); sign-ins take codes from it.
 */
interface Kept {
  username: string;
  key: string;
}

function file(): string {
  return path.join(serverInfo().dataDir, 'e2e-authenticator.json');
}

function currentCode(key: string): string {
  return new OTPAuth.TOTP({
    algorithm: 'SHA1',
    digits: 6,
    period: 30,
    secret: OTPAuth.Secret.fromBase32(key.replace(/\s+/g, '')),
  }).generate();
}

/** Keeps the key the enrolment page showed; returns the code to confirm it with. */
export function enrolAuthenticator(username: string, key: string): string {
  fs.writeFileSync(file(), JSON.stringify({ username, key } satisfies Kept));
  return currentCode(key);
}

/** The code the app shows now (the server is first told to forget the step used last). */
export function nextCode(): string {
  const kept = JSON.parse(fs.readFileSync(file(), 'utf8')) as Kept;
  forgetUsedStep(kept.username);
  return currentCode(kept.key);
}
