/**
 * The messages the server delivered over SMTP to maildev, read through maildev's
 * JSON API (`GET /api/email`). The server's outbox worker polls every 2 s, so a
 * message arrives a few seconds after the action that queued it: wait for it with
 * `waitForEmail`, never with a fixed sleep.
 */
export interface ReceivedEmail {
  id: string;
  /** When maildev received it. */
  receivedAt: Date;
  from: string[];
  to: string[];
  subject: string;
  text: string;
  html: string;
  /** The first link in the message (in its plain text, else its HTML). */
  link: string | undefined;
}

export interface WaitForEmailOptions {
  /** Only a message whose subject matches. */
  subject?: RegExp;
  /** Ignore these messages (e.g. an earlier email to the same address). */
  except?: ReadonlyArray<Pick<ReceivedEmail, 'id'>>;
  /** How long to wait; default 20 s (the outbox polls every 2 s). */
  timeout?: number;
}

interface MaildevAddress {
  address: string;
  name?: string;
}

interface MaildevEmail {
  id: string;
  time: string;
  subject?: string;
  from?: MaildevAddress[];
  to?: MaildevAddress[];
  text?: string;
  html?: string;
}

const POLL_INTERVAL_MS = 250;

export class Mailbox {
  constructor(readonly apiURL: string) {}

  /** Every message maildev holds, oldest first. */
  async all(): Promise<ReceivedEmail[]> {
    const response = await fetch(`${this.apiURL}/api/email`, { signal: AbortSignal.timeout(5_000) });
    if (!response.ok) throw new Error(`maildev answered GET /api/email with ${response.status}`);
    const emails = (await response.json()) as MaildevEmail[];
    return emails.map(parse).sort((a, b) => a.receivedAt.getTime() - b.receivedAt.getTime());
  }

  /** The messages to `address` (case-insensitive), oldest first. */
  async to(address: string): Promise<ReceivedEmail[]> {
    const wanted = address.toLowerCase();
    return (await this.all()).filter((email) => email.to.some((to) => to.toLowerCase() === wanted));
  }

  /**
   * Waits until a message to `address` arrives (the oldest one that matches) and
   * returns it; fails after the timeout, listing what did arrive.
   */
  async waitForEmail(address: string, options: WaitForEmailOptions = {}): Promise<ReceivedEmail> {
    const timeout = options.timeout ?? 20_000;
    const except = new Set((options.except ?? []).map((email) => email.id));
    const deadline = Date.now() + timeout;
    for (;;) {
      const found = (await this.to(address)).find(
        (email) => !except.has(email.id) && (!options.subject || options.subject.test(email.subject)),
      );
      if (found) return found;
      if (Date.now() > deadline) {
        const received = (await this.all())
          .map((email) => `  - to ${email.to.join(', ')}: "${email.subject}" (${email.id})`)
          .join('\n');
        throw new Error(
          `No email to ${address}${options.subject ? ` with a subject matching ${options.subject}` : ''}` +
            `${except.size ? ` other than ${[...except].join(', ')}` : ''} arrived within ${timeout / 1000} s. ` +
            `maildev (${this.apiURL}) holds:\n${received || '  (nothing)'}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
    }
  }
}

function parse(email: MaildevEmail): ReceivedEmail {
  const text = email.text ?? '';
  const html = email.html ?? '';
  return {
    id: email.id,
    receivedAt: new Date(email.time),
    from: (email.from ?? []).map((a) => a.address),
    to: (email.to ?? []).map((a) => a.address),
    subject: email.subject ?? '',
    text,
    html,
    link: firstLink(text, html),
  };
}

function firstLink(text: string, html: string): string | undefined {
  const inText = /https?:\/\/[^\s<>"']+/.exec(text)?.[0];
  if (inText) return inText.replace(/[.,;:)\]]+$/, '');
  const href = /<a\b[^>]*\bhref\s*=\s*(["'])(.*?)\1/i.exec(html)?.[2];
  return href?.replace(/&amp;/g, '&');
}
