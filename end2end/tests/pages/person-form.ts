import type { Locator, Page } from '@playwright/test';

/**
 * The fields that describe a person, shared by first-run setup and *Add a
 * user* (the app renders both from one component): names, email, the
 * username that follows the names while the box is ticked, and initials.
 */
export class PersonForm {
  readonly firstName: Locator;
  readonly lastName: Locator;
  readonly email: Locator;
  readonly createUsernameFromNames: Locator;
  readonly username: Locator;
  readonly initials: Locator;

  constructor(readonly page: Page) {
    this.firstName = page.getByLabel('First name', { exact: true });
    this.lastName = page.getByLabel('Last name', { exact: true });
    this.email = page.getByLabel('Email', { exact: true });
    this.createUsernameFromNames = page.getByRole('checkbox', { name: 'Create username from name and surname' });
    this.username = page.getByLabel('Username', { exact: true });
    this.initials = page.getByLabel('Initials', { exact: true });
  }
}
