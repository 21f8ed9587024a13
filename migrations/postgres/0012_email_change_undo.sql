-- An email change tells the old address, with a link that undoes it
-- ('email_change_undo', its new_email holding the address to go back to).
ALTER TABLE one_time_links DROP CONSTRAINT one_time_links_purpose_check;
ALTER TABLE one_time_links ADD CONSTRAINT one_time_links_purpose_check
    CHECK (purpose IN ('platform_setup', 'organisation_setup', 'welcome', 'set_password', 'email_change', 'email_change_undo'));
