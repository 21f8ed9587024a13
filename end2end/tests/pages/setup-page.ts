import { expect, type Locator, type Page } from '@playwright/test';
import { PersonForm } from './person-form';
import { waitForHydration } from './hydration';

export interface NewAdministrator {
  organisation: string;
  firstName: string;
  lastName: string;
  email: string;
  password: string;
}

/** /setup/<token>: creates the first organisation and its administrator. */
export class SetupPage extends PersonForm {
  readonly heading: Locator;
  readonly organisationName: Locator;
  readonly password: Locator;
  readonly createOrganisation: Locator;

  constructor(page: Page) {
    super(page);
    this.heading = page.getByRole('heading', { level: 1, name: 'Set up your organisation' });
    this.organisationName = page.getByLabel('Organisation name', { exact: true });
    this.password = page.getByLabel('Password', { exact: true });
    this.createOrganisation = page.getByRole('button', { name: 'Create organisation' });
  }

  /** Opens the setup link and waits until the form checks fields in the browser. */
  async open(link: string): Promise<void> {
    await this.page.goto(link);
    await expect(this.heading).toBeVisible();
    await waitForHydration(this.page);
  }

  /** Types into a field and leaves it, as a person would (errors show on leaving). */
  async enter(field: Locator, value: string): Promise<void> {
    await field.fill(value);
    await field.press('Tab');
  }

  /** Fills everything but the username and initials, which the form derives from the names. */
  async fillIn(person: NewAdministrator): Promise<void> {
    await this.enter(this.organisationName, person.organisation);
    await this.enter(this.firstName, person.firstName);
    await this.enter(this.lastName, person.lastName);
    await this.enter(this.email, person.email);
    await this.enter(this.password, person.password);
  }
}
