import { execFileSync } from 'node:child_process';
import { serverInfo } from './server';

/**
 * Changes the running server's SQLite database directly, for what the browser
 * cannot do: the server's clock cannot be moved, so a link is made to have expired
 * by moving its expiry into the past. python3's sqlite3 writes beside the server
 * (WAL mode, 5 s busy timeout on both sides).
 */
const EXPIRE_WELCOME_LINKS = `
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=5)
cursor = db.execute(
    "UPDATE one_time_links SET expires_at = 0"
    " WHERE used_at IS NULL AND purpose = 'welcome'"
    " AND user_id IN (SELECT id FROM users WHERE email_normalized = lower(?))",
    (sys.argv[2],),
)
db.commit()
print(cursor.rowcount)
`;

/** Makes every unused welcome link of the account with this email address expired; returns how many. */
export function expireWelcomeLinks(email: string): number {
  const output = execFileSync('python3', ['-c', EXPIRE_WELCOME_LINKS, serverInfo().databasePath, email], {
    encoding: 'utf8',
  });
  return Number(output.trim());
}

const FORGET_USED_STEP = `
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=5)
db.execute(
    "UPDATE two_factor SET last_step = NULL"
    " WHERE user_id IN (SELECT id FROM users WHERE lower(username) = lower(?))",
    (sys.argv[2],),
)
db.commit()
`;

/**
 * Forgets which 30-second step last gave this person an accepted code. The server
 * accepts a code once, and the suite signs in faster than once a step, which no
 * person does; this lets it sign in again at once instead of waiting for a new step.
 */
export function forgetUsedStep(username: string): void {
  execFileSync('python3', ['-c', FORGET_USED_STEP, serverInfo().databasePath, username]);
}
