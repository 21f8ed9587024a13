//! A person's details as one form gives them, wherever that form is: Add a
//! user, setup, a new organisation's first administrator, the REST API. The
//! defaults live here once: the username made from the names when it is
//! not typed, and initials suggested from the names when left out.

use super::{Email, FieldError, FirstName, Initials, LastName, Username, collect};

/// The details as typed.
#[derive(Debug, Clone, Copy, Default)]
pub struct PersonForm<'a> {
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub email: &'a str,
    /// `None`: made from the names (the form's *Generate username* box).
    pub username: Option<&'a str>,
    /// `None`: suggested from the names.
    pub initials: Option<&'a str>,
}

/// The details, each one valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub first_name: FirstName,
    pub last_name: LastName,
    pub email: Email,
    pub username: Username,
    pub initials: Initials,
}

/// What the names give when nothing else is typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Defaults {
    pub username: Username,
    pub initials: Initials,
}

impl Defaults {
    pub fn of(first: &FirstName, last: &LastName) -> Self {
        Defaults {
            username: Username::from_names(first, last),
            initials: Initials::suggest(first, last),
        }
    }
}

impl PersonForm<'_> {
    /// The defaults of names as typed, once both are valid (the browser
    /// form fills them in as the person types).
    pub fn defaults(first_name: &str, last_name: &str) -> Option<Defaults> {
        let first = FirstName::parse(first_name).ok()?;
        let last = LastName::parse(last_name).ok()?;
        Some(Defaults::of(&first, &last))
    }

    /// Parses every field; fails with each field's error at once.
    pub fn parse(&self) -> Result<Person, Vec<FieldError>> {
        let mut errors = Vec::new();
        let first = collect(&mut errors, FirstName::parse(self.first_name));
        let last = collect(&mut errors, LastName::parse(self.last_name));
        let email = collect(&mut errors, Email::parse(self.email));
        let defaults = first
            .as_ref()
            .zip(last.as_ref())
            .map(|(f, l)| Defaults::of(f, l));
        let username = match self.username {
            Some(typed) => collect(&mut errors, Username::parse(typed)),
            // Without valid names there is nothing to make it from; the
            // names' own errors say why.
            None => defaults.as_ref().map(|d| d.username.clone()),
        };
        let initials = match self.initials {
            Some(typed) => collect(&mut errors, Initials::parse(typed)),
            None => defaults.map(|d| d.initials),
        };
        match (first, last, email, username, initials) {
            (Some(first_name), Some(last_name), Some(email), Some(username), Some(initials))
                if errors.is_empty() =>
            {
                Ok(Person {
                    first_name,
                    last_name,
                    email,
                    username,
                    initials,
                })
            }
            _ => Err(errors),
        }
    }

    /// The username this form asks for, for a live check: `None` while it
    /// is to be made from names not yet valid.
    pub fn wanted_username(&self) -> Option<Result<Username, FieldError>> {
        match self.username {
            Some(typed) => Some(Username::parse(typed)),
            None => Self::defaults(self.first_name, self.last_name).map(|d| Ok(d.username)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form<'a>() -> PersonForm<'a> {
        PersonForm {
            first_name: "Siân",
            last_name: "O'Brien",
            email: "sian@example.org",
            username: None,
            initials: None,
        }
    }

    #[test]
    fn left_out_username_and_initials_come_from_the_names() {
        let person = form().parse().expect("valid");
        assert_eq!(person.username.as_str(), "sian.obrien");
        assert_eq!(person.initials.as_str(), "SO");
    }

    #[test]
    fn typed_username_and_initials_are_kept_and_checked() {
        let typed = PersonForm {
            username: Some("s.obrien"),
            initials: Some("sob"),
            ..form()
        };
        let person = typed.parse().expect("valid");
        assert_eq!(person.username.as_str(), "s.obrien");
        assert_eq!(person.initials.as_str(), "SOB");
        let bad = PersonForm {
            username: Some("a b"),
            initials: Some(""),
            ..form()
        };
        let fields: Vec<String> = bad
            .parse()
            .expect_err("invalid")
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["username", "initials"]);
    }

    #[test]
    fn every_bad_field_is_named_at_once_and_defaults_wait_for_valid_names() {
        let bad = PersonForm {
            first_name: "",
            email: "not an address",
            ..form()
        };
        let fields: Vec<String> = bad
            .parse()
            .expect_err("invalid")
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["first_name", "email"]);
        assert_eq!(bad.wanted_username(), None);
        assert_eq!(PersonForm::defaults("", "O'Brien"), None);
        assert_eq!(
            form().wanted_username(),
            Some(Ok(Username::parse("sian.obrien").expect("valid")))
        );
    }
}
