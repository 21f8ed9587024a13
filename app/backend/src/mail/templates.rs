//! The emails Gatehouse sends, each as plain text and HTML (askama templates
//! under `app/templates/mail/`, compiled in; the HTML ones escape what they
//! are given). Times are written out in UTC, the way people read them.

use crate::clock::UnixTime;
use askama::Template;

/// A rendered email: what [`crate::mail::OutgoingEmail::new`] takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailContent {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The facts of an email that carries a one-time link.
#[derive(Debug, Clone, Copy)]
pub struct LinkEmail<'a> {
    pub organisation_name: &'a str,
    /// The name to greet the person by (`Dear Siân O’Brien`).
    pub person_name: &'a str,
    /// The absolute link, built from the public URL.
    pub link: &'a str,
    /// When the link stops working.
    pub expires_at: UnixTime,
    /// The address the account is moving to (the notice to the old one).
    pub new_address: Option<&'a str>,
}

/// What every template sees.
struct View<'a> {
    subject: String,
    organisation_name: &'a str,
    person_name: &'a str,
    link: &'a str,
    expires: String,
    new_address: &'a str,
}

impl<'a> View<'a> {
    fn new(facts: &LinkEmail<'a>, subject: String) -> Self {
        View {
            subject,
            organisation_name: facts.organisation_name,
            person_name: facts.person_name,
            link: facts.link,
            expires: format_expiry(facts.expires_at),
            new_address: facts.new_address.unwrap_or_default(),
        }
    }
}

macro_rules! text_and_html {
    ($text:ident = $text_path:literal, $html:ident = $html_path:literal) => {
        #[derive(Template)]
        #[template(path = $text_path)]
        struct $text<'a> {
            v: &'a View<'a>,
        }

        #[derive(Template)]
        #[template(path = $html_path)]
        struct $html<'a> {
            v: &'a View<'a>,
        }
    };
}

text_and_html!(
    WelcomeText = "mail/welcome.txt",
    WelcomeHtml = "mail/welcome.html"
);
text_and_html!(
    SetPasswordText = "mail/set_password.txt",
    SetPasswordHtml = "mail/set_password.html"
);
text_and_html!(
    EmailChangeText = "mail/email_change.txt",
    EmailChangeHtml = "mail/email_change.html"
);
text_and_html!(
    EmailChangeUndoText = "mail/email_change_undo.txt",
    EmailChangeUndoHtml = "mail/email_change_undo.html"
);

/// To a new person: activate the account by choosing a password.
pub fn welcome(facts: &LinkEmail<'_>) -> Result<MailContent, askama::Error> {
    let v = View::new(
        facts,
        format!("Activate your {} account", facts.organisation_name),
    );
    Ok(MailContent {
        text: WelcomeText { v: &v }.render()?,
        html: WelcomeHtml { v: &v }.render()?,
        subject: v.subject,
    })
}

/// Set or reset the password (also a fresh start for a pending account).
pub fn set_password(facts: &LinkEmail<'_>) -> Result<MailContent, askama::Error> {
    let v = View::new(
        facts,
        format!("Choose a new password for {}", facts.organisation_name),
    );
    Ok(MailContent {
        text: SetPasswordText { v: &v }.render()?,
        html: SetPasswordHtml { v: &v }.render()?,
        subject: v.subject,
    })
}

/// To a new address: confirm it before the account uses it.
pub fn email_change(facts: &LinkEmail<'_>) -> Result<MailContent, askama::Error> {
    let v = View::new(
        facts,
        format!(
            "Confirm your new email address for {}",
            facts.organisation_name
        ),
    );
    Ok(MailContent {
        text: EmailChangeText { v: &v }.render()?,
        html: EmailChangeHtml { v: &v }.render()?,
        subject: v.subject,
    })
}

/// To the old address: the account's address is changing, with a link
/// that keeps it.
pub fn email_change_undo(facts: &LinkEmail<'_>) -> Result<MailContent, askama::Error> {
    let v = View::new(
        facts,
        format!(
            "Your email address for {} is being changed",
            facts.organisation_name
        ),
    );
    Ok(MailContent {
        text: EmailChangeUndoText { v: &v }.render()?,
        html: EmailChangeUndoHtml { v: &v }.render()?,
        subject: v.subject,
    })
}

/// `26 November 2026 at 09:00 UTC`.
pub fn format_expiry(at: UnixTime) -> String {
    use time::macros::format_description;
    time::OffsetDateTime::from_unix_timestamp(at)
        .ok()
        .and_then(|t| {
            t.format(format_description!(
                "[day padding:none] [month repr:long] [year] at [hour]:[minute] UTC"
            ))
            .ok()
        })
        .unwrap_or_else(|| format!("{at} seconds after 1 January 1970 UTC"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-26 09:00 UTC.
    const EXPIRES: UnixTime = 1_795_683_600;
    const LINK: &str = "https://accounts.riverside.example/activate/0123abcd";

    fn facts(person_name: &str) -> LinkEmail<'_> {
        LinkEmail {
            organisation_name: "Riverside College",
            person_name,
            link: LINK,
            expires_at: EXPIRES,
            new_address: Some("sian@elsewhere.example"),
        }
    }

    type Render = fn(&LinkEmail<'_>) -> Result<MailContent, askama::Error>;
    const KINDS: [(&str, Render); 4] = [
        ("welcome", welcome),
        ("set_password", set_password),
        ("email_change", email_change),
        ("email_change_undo", email_change_undo),
    ];

    #[test]
    fn expiry_times_read_as_words_in_utc() {
        assert_eq!(format_expiry(EXPIRES), "26 November 2026 at 09:00 UTC");
        assert_eq!(format_expiry(1_772_355_900), "1 March 2026 at 09:05 UTC");
    }

    #[test]
    fn every_email_names_the_organisation_the_person_the_link_and_its_expiry() {
        for (kind, render) in KINDS {
            let mail = render(&facts("Siân O’Brien")).expect(kind);
            assert!(mail.subject.contains("Riverside College"), "{kind}");
            for body in [&mail.text, &mail.html] {
                assert!(body.contains("Riverside College"), "{kind}: {body}");
                assert!(body.contains("Dear Siân O’Brien,"), "{kind}: {body}");
                assert!(body.contains(LINK), "{kind}: {body}");
                assert!(
                    body.contains("This link works once, until 26 November 2026 at 09:00 UTC."),
                    "{kind}: {body}"
                );
                assert!(body.contains("If you did not"), "{kind}: {body}");
            }
        }
    }

    #[test]
    fn each_email_says_what_to_do() {
        let says = |render: Render, words: &str| {
            let mail = render(&facts("Siân")).expect(words);
            assert!(mail.text.contains(words), "{}", mail.text);
            assert!(mail.html.contains(words), "{}", mail.html);
        };
        says(welcome, "Activate your account: choose a password");
        says(set_password, "Choose a new password");
        says(email_change, "Confirm your new email address");
        says(email_change_undo, "sian@elsewhere.example");
        says(email_change_undo, "keep this address");
    }

    #[test]
    fn html_escapes_names_while_text_keeps_them_as_typed() {
        for (kind, render) in KINDS {
            let facts = LinkEmail {
                organisation_name: "<b>Riverside</b> & Co",
                ..facts("<script>alert(1)</script>")
            };
            let mail = render(&facts).expect(kind);
            assert!(!mail.html.contains("<script>"), "{kind}: {}", mail.html);
            assert!(!mail.html.contains("<b>"), "{kind}: {}", mail.html);
            assert!(
                mail.html
                    .contains("Dear &#60;script&#62;alert(1)&#60;/script&#62;,"),
                "{kind}: {}",
                mail.html
            );
            assert!(
                mail.text.contains("Dear <script>alert(1)</script>,"),
                "{kind}"
            );
            assert!(mail.text.contains("<b>Riverside</b> & Co"), "{kind}");
        }
    }

    #[test]
    fn the_html_is_a_whole_document_in_english() {
        let mail = welcome(&facts("Siân")).expect("welcome");
        assert!(mail.html.starts_with("<!DOCTYPE html>"));
        assert!(mail.html.contains("<html lang=\"en\">"));
        assert!(
            mail.html
                .contains(&format!("<title>{}</title>", mail.subject))
        );
    }
}
