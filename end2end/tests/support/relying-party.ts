import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as oidc from 'openid-client';
import { createRemoteJWKSet, jwtVerify } from 'jose';

/**
 * A small web application that signs people in with Gatehouse, as an
 * organisation's own applications do: built on `openid-client` (code flow,
 * PKCE, state, nonce, ID token checked against Gatehouse's keys), with
 * sessions of its own in a cookie, and a back-channel logout endpoint that
 * verifies Gatehouse's logout token and ends the sessions it names.
 *
 * Pages: `/` says who is signed in ("Signed in as …" or "Not signed in"),
 * `/login` starts a sign-in, `/callback` finishes it.
 */
export class RelyingParty {
  private server?: http.Server;
  private config?: oidc.Configuration;
  private issuer = '';
  private clientId = '';
  /** Sign-ins under way, by the state they sent. */
  private pending = new Map<string, { verifier: string; nonce: string }>();
  /** Signed-in sessions, by the cookie's value. */
  private sessions = new Map<string, { name: string; sid: string }>();
  /** Logout tokens received and verified. */
  readonly logouts: string[] = [];
  origin = '';

  constructor(readonly title: string) {}

  /** Listens on a free port of this machine; the address is known from here on. */
  async listen(): Promise<void> {
    this.server = http.createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        response.writeHead(500, { 'content-type': 'text/plain' });
        response.end(`${this.title} failed: ${String(error)}`);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.origin = `http://127.0.0.1:${port}`;
  }

  /** Cookies ignore ports, and two of these share 127.0.0.1: one name each. */
  private get cookieName(): string {
    return `rp_${new URL(this.origin).port}`;
  }

  get redirectUri(): string {
    return `${this.origin}/callback`;
  }

  get backchannelLogoutUri(): string {
    return `${this.origin}/backchannel-logout`;
  }

  /** Discovers Gatehouse at `issuer` and uses the application's credentials. */
  async connect(issuer: string, clientId: string, clientSecret: string): Promise<void> {
    this.issuer = issuer;
    this.clientId = clientId;
    this.config = await oidc.discovery(new URL(issuer), clientId, clientSecret, undefined, {
      // Gatehouse runs on plain http on this machine during the tests.
      execute: [oidc.allowInsecureRequests],
    });
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  private async handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', this.origin);
    const cookie = new RegExp(`${this.cookieName}=([a-z0-9-]+)`).exec(request.headers.cookie ?? '')?.[1];
    if (url.pathname === '/login') {
      const verifier = oidc.randomPKCECodeVerifier();
      const state = oidc.randomState();
      const nonce = oidc.randomNonce();
      this.pending.set(state, { verifier, nonce });
      const target = oidc.buildAuthorizationUrl(this.config!, {
        redirect_uri: this.redirectUri,
        scope: 'openid profile email',
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
        nonce,
      });
      response.writeHead(302, { location: target.href });
      response.end();
      return;
    }
    if (url.pathname === '/callback') {
      const state = url.searchParams.get('state') ?? '';
      const started = this.pending.get(state);
      if (!started) throw new Error('an unknown state came back');
      this.pending.delete(state);
      const tokens = await oidc.authorizationCodeGrant(this.config!, url, {
        pkceCodeVerifier: started.verifier,
        expectedState: state,
        expectedNonce: started.nonce,
      });
      const claims = tokens.claims()!;
      const session = crypto.randomUUID();
      this.sessions.set(session, { name: String(claims.name), sid: String(claims.sid) });
      response.writeHead(302, { location: '/', 'set-cookie': `${this.cookieName}=${session}; Path=/; HttpOnly` });
      response.end();
      return;
    }
    if (url.pathname === '/backchannel-logout' && request.method === 'POST') {
      const body = await new Promise<string>((resolve) => {
        let text = '';
        request.on('data', (chunk) => (text += chunk));
        request.on('end', () => resolve(text));
      });
      const token = new URLSearchParams(body).get('logout_token') ?? '';
      const jwks = createRemoteJWKSet(new URL(this.config!.serverMetadata().jwks_uri!));
      const { payload } = await jwtVerify(token, jwks, {
        issuer: this.issuer,
        audience: this.clientId,
        typ: 'logout+jwt',
      });
      const events = payload.events as Record<string, unknown> | undefined;
      if (!events?.['http://schemas.openid.net/event/backchannel-logout']) {
        response.writeHead(400);
        response.end();
        return;
      }
      for (const [key, session] of this.sessions) {
        if (session.sid === payload.sid) this.sessions.delete(key);
      }
      this.logouts.push(token);
      response.writeHead(200);
      response.end();
      return;
    }
    const session = cookie ? this.sessions.get(cookie) : undefined;
    const status = session ? `Signed in as ${session.name}` : 'Not signed in';
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(
      `<!doctype html><html lang="en"><head><title>${this.title}</title></head>` +
        `<body><h1>${this.title}</h1><p id="status">${status}</p><a href="/login">Sign in with Gatehouse</a></body></html>`,
    );
  }
}
