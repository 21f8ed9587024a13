import { expect, type Locator, type Page } from '@playwright/test';
import { pathnameIs } from './hydration';

/** The platform administrator's Organisations page. */
export class OrganisationsPage {
  readonly heading: Locator;
  readonly table: Locator;
  readonly addForm: Locator;
  readonly organisationName: Locator;
  readonly firstName: Locator;
  readonly lastName: Locator;
  readonly email: Locator;
  readonly addButton: Locator;

  constructor(readonly page: Page) {
    this.heading = page.getByRole('heading', { level: 1, name: 'Organisations' });
    this.table = page.getByRole('table', { name: 'Organisations and their accounts' });
    this.addForm = page.getByRole('region', { name: 'Add an organisation' });
    this.organisationName = this.addForm.getByLabel('Organisation name');
    const firstAdministrator = this.addForm.getByRole('group', { name: 'First administrator' });
    this.firstName = firstAdministrator.getByLabel('First name');
    this.lastName = firstAdministrator.getByLabel('Last name');
    this.email = firstAdministrator.getByLabel('Email');
    this.addButton = this.addForm.getByRole('button', { name: 'Add the organisation' });
  }

  async open(): Promise<void> {
    await this.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Organisations' }).click();
    await expect(this.page).toHaveURL(pathnameIs('/organisations'));
    await expect(this.heading).toBeVisible();
  }

  row(organisation: string): Locator {
    return this.table.getByRole('row').filter({ has: this.page.getByRole('rowheader', { name: organisation }) });
  }

  async add(organisation: string, administrator: { firstName: string; lastName: string; email: string }) {
    await this.organisationName.fill(organisation);
    await this.firstName.fill(administrator.firstName);
    await this.lastName.fill(administrator.lastName);
    await this.email.fill(administrator.email);
    await this.addButton.click();
  }
}

/** The organisation picker a platform administrator sees on the Users pages. */
export class OrganisationPicker {
  readonly select: Locator;
  readonly switchButton: Locator;

  constructor(readonly page: Page) {
    this.select = page.getByLabel('Organisation', { exact: true });
    this.switchButton = page.getByRole('button', { name: 'Switch' });
  }

  async switchTo(organisation: string): Promise<void> {
    await this.select.selectOption({ label: organisation });
    await this.switchButton.click();
  }
}

/** Organisation settings: how long emailed links work. */
export class OrganisationSettingsPage {
  readonly heading: Locator;
  readonly welcomeHours: Locator;
  readonly passwordMinutes: Locator;
  readonly saveButton: Locator;
  readonly notice: Locator;

  constructor(readonly page: Page) {
    this.heading = page.getByRole('heading', { level: 1, name: 'Organisation settings' });
    this.welcomeHours = page.getByLabel('Welcome link lifetime (hours)');
    this.passwordMinutes = page.getByLabel('Set-password link lifetime (minutes)');
    this.saveButton = page.getByRole('button', { name: 'Save' });
    this.notice = page.getByRole('status');
  }

  async open(): Promise<void> {
    await this.page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Organisation settings' })
      .click();
    await expect(this.page).toHaveURL(pathnameIs('/organisation'));
    await expect(this.heading).toBeVisible();
  }
}
