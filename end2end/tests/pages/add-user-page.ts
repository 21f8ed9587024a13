import { expect, type Locator, type Page } from '@playwright/test';
import { PersonForm } from './person-form';
import { pathnameIs, waitForHydration } from './hydration';

export interface NewPerson {
  firstName: string;
  lastName: string;
  email: string;
  /** Only when it is not what the form makes of the names. */
  username?: string;
  /** Only when it is not what the form suggests from the names. */
  initials?: string;
}

/** /users/new: *Add a user*, checked field by field in the browser as it is typed. */
export class AddUserPage extends PersonForm {
  readonly heading: Locator;
  readonly apiUser: Locator;
  readonly sendWelcomeEmail: Locator;
  readonly addUserButton: Locator;
  /** "There is a problem": the summary after a failed submission. */
  readonly errorSummary: Locator;

  constructor(page: Page) {
    super(page);
    this.heading = page.getByRole('heading', { level: 1, name: 'Add a user' });
    this.apiUser = page.getByRole('checkbox', { name: 'API user' });
    this.sendWelcomeEmail = page.getByRole('checkbox', { name: 'Send welcome email' });
    this.addUserButton = page.getByRole('button', { name: 'Add a user', exact: true });
    this.errorSummary = page.getByRole('alert').filter({ hasText: 'There is a problem' });
  }

  async open(): Promise<void> {
    await this.page.goto('/users/new');
    await this.expectShown();
  }

  /** The form is showing and checks fields in the browser. */
  async expectShown(): Promise<void> {
    await expect(this.page).toHaveURL(pathnameIs('/users/new'));
    await expect(this.heading).toBeVisible();
    await waitForHydration(this.page);
  }

  /** Types into a field and leaves it, as a person would (errors show on leaving). */
  async enter(field: Locator, value: string): Promise<void> {
    await field.fill(value);
    await field.press('Tab');
  }

  /** "<username> is already taken." */
  usernameTaken(username: string): Locator {
    return this.page.getByText(`${username} is already taken.`, { exact: true });
  }

  /** "<username> is available" */
  usernameAvailable(username: string): Locator {
    return this.page.getByText(`${username} is available`, { exact: true });
  }

  /** The button offering a free alternative username. */
  useAlternative(username: string): Locator {
    return this.page.getByRole('button', { name: `Use ${username}`, exact: true });
  }

  /**
   * Fills the form for a person (the username generated from the names unless one
   * is given) and leaves *Send welcome email* as asked.
   */
  async fillIn(person: NewPerson, { welcomeEmail }: { welcomeEmail: boolean }): Promise<void> {
    await this.enter(this.firstName, person.firstName);
    await this.enter(this.lastName, person.lastName);
    await this.enter(this.email, person.email);
    if (person.username !== undefined) {
      await this.createUsernameFromNames.uncheck();
      await this.enter(this.username, person.username);
    }
    if (person.initials !== undefined) await this.enter(this.initials, person.initials);
    await this.sendWelcomeEmail.setChecked(welcomeEmail);
  }

  /** Submits the form; the new account's page opens. Returns its id. */
  async submit(): Promise<number> {
    await this.addUserButton.click();
    await expect(this.page).toHaveURL(/\/users\/\d+$/);
    return Number(/\/users\/(\d+)$/.exec(this.page.url())![1]);
  }
}
