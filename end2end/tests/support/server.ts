import path from 'node:path';

/**
 * What global setup tells the tests about the server it started. Workers inherit
 * the environment of the runner process, so global setup passes these as variables.
 */
export const BASE_URL_VAR = 'GATEHOUSE_E2E_BASE_URL';
export const SETUP_LINK_VAR = 'GATEHOUSE_E2E_SETUP_LINK';
export const SERVER_PID_VAR = 'GATEHOUSE_E2E_SERVER_PID';
export const DATA_DIR_VAR = 'GATEHOUSE_E2E_DATA_DIR';
export const MAIL_URL_VAR = 'GATEHOUSE_E2E_MAIL_URL';
export const MAIL_PID_VAR = 'GATEHOUSE_E2E_MAIL_PID';
export const MAIL_DIR_VAR = 'GATEHOUSE_E2E_MAIL_DIR';

export interface ServerInfo {
  /** e.g. http://127.0.0.1:41234 */
  baseURL: string;
  /** The one-time link printed on first start: http://127.0.0.1:41234/setup/<64 hex> */
  setupLink: string;
  /** The server's data directory; its SQLite database is `gatehouse.db` in it. */
  dataDir: string;
  /** The server's SQLite database file. */
  databasePath: string;
  /** maildev's web/API address (the server sends its mail to maildev's SMTP port). */
  mailURL: string;
}

export function serverInfo(): ServerInfo {
  const baseURL = process.env[BASE_URL_VAR];
  const setupLink = process.env[SETUP_LINK_VAR];
  const dataDir = process.env[DATA_DIR_VAR];
  const mailURL = process.env[MAIL_URL_VAR];
  if (!baseURL || !setupLink || !dataDir || !mailURL) {
    throw new Error(
      `${BASE_URL_VAR}, ${SETUP_LINK_VAR}, ${DATA_DIR_VAR} and ${MAIL_URL_VAR} are not set: run the ` +
        'tests with `npx playwright test` from end2end/, whose global setup starts the server.',
    );
  }
  return { baseURL, setupLink, dataDir, databasePath: path.join(dataDir, 'gatehouse.db'), mailURL };
}
