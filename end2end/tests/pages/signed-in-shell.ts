import { expect, type Locator, type Page } from '@playwright/test';
import { pathnameIs } from './hydration';

export interface SignedInPerson {
  firstName: string;
  lastName: string;
  displayName: string;
  email: string;
  username: string;
  initials: string;
  organisation: string;
}

/** The header every signed-in page shares, and the pages under it: Home and My profile. */
export class SignedInShell {
  readonly header: Locator;
  readonly mainNavigation: Locator;
  readonly homeLink: Locator;
  /** Only for those who may view users. */
  readonly usersLink: Locator;
  readonly myProfileLink: Locator;
  readonly signOutButton: Locator;
  readonly myProfileHeading: Locator;
  readonly myDetails: Locator;

  constructor(readonly page: Page) {
    this.header = page.getByRole('banner');
    this.mainNavigation = page.getByRole('navigation', { name: 'Main' });
    this.homeLink = this.mainNavigation.getByRole('link', { name: 'Home', exact: true });
    this.usersLink = this.mainNavigation.getByRole('link', { name: 'Users', exact: true });
    this.myProfileLink = this.mainNavigation.getByRole('link', { name: 'My profile', exact: true });
    this.signOutButton = this.header.getByRole('button', { name: 'Sign out' });
    this.myProfileHeading = page.getByRole('heading', { level: 1, name: 'My profile' });
    this.myDetails = page.getByRole('region', { name: 'My details' });
  }

  homeHeading(person: Pick<SignedInPerson, 'firstName'>): Locator {
    return this.page.getByRole('heading', { level: 1, name: `Welcome, ${person.firstName}` });
  }

  /** The header says who is signed in, and to which organisation. */
  async expectSignedInAs(person: SignedInPerson): Promise<void> {
    await expect(this.header).toContainText(`Signed in as ${person.displayName}`);
    await expect(this.header).toContainText(person.organisation);
    await expect(this.signOutButton).toBeVisible();
  }

  async expectHome(person: SignedInPerson): Promise<void> {
    await expect(this.page).toHaveURL(pathnameIs('/'));
    await expect(this.homeHeading(person)).toBeVisible();
    await this.expectSignedInAs(person);
  }

  async openMyProfile(): Promise<void> {
    await this.myProfileLink.click();
    await expect(this.page).toHaveURL(pathnameIs('/profile'));
    await expect(this.myProfileHeading).toBeVisible();
  }

  async expectMyDetails(person: SignedInPerson): Promise<void> {
    await expect(this.myDetails.getByRole('term')).toHaveText([
      'First name',
      'Last name',
      'Email',
      'Username',
      'Initials',
      'Organisation',
    ]);
    await expect(this.myDetails.getByRole('definition')).toHaveText([
      person.firstName,
      person.lastName,
      person.email,
      person.username,
      person.initials,
      person.organisation,
    ]);
  }

  async signOut(): Promise<void> {
    await this.signOutButton.click();
    await expect(this.page).toHaveURL(pathnameIs('/sign-in'));
  }
}
