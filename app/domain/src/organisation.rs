//! An organisation's name and settings.

use super::{FieldError, char_count, collapse_whitespace, is_control_or_invisible, nfc};

const MIN_CHARS: usize = 2;
const MAX_CHARS: usize = 100;

/// An organisation's name, such as "St Mary’s C of E Primary School (Leeds)": trimmed,
/// inner whitespace collapsed, NFC-normalised, 2–100 characters, at least one letter,
/// no control or invisible characters. Punctuation, digits and symbols are allowed;
/// like every text, it is escaped where it is shown.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OrganisationName(String);

validated_text!(OrganisationName);

impl OrganisationName {
    pub const FIELD: &'static str = "organisation_name";
    pub const MAX_CHARS: usize = MAX_CHARS;

    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let refuse = |message: &str| Err(FieldError::new(Self::FIELD, message));
        let value = nfc(&collapse_whitespace(input));
        if value.is_empty() {
            return refuse("Enter an organisation name");
        }
        if value.chars().any(is_control_or_invisible) {
            return refuse("Organisation name must not contain control or invisible characters");
        }
        let length = char_count(&value);
        if length < MIN_CHARS {
            return refuse("Organisation name must be at least 2 characters");
        }
        if length > MAX_CHARS {
            return refuse("Organisation name must be 100 characters or fewer");
        }
        if !value.chars().any(char::is_alphabetic) {
            return refuse("Organisation name must contain at least one letter");
        }
        Ok(Self(value))
    }
}

/// How long the links an organisation emails stay valid (SPEC *Email
/// links*: 72 hours and 1 hour unless the organisation chooses otherwise).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LinkLifetimes {
    pub welcome_link_hours: i64,
    pub password_link_minutes: i64,
}

impl LinkLifetimes {
    pub const WELCOME_FIELD: &'static str = "welcome_link_hours";
    pub const PASSWORD_FIELD: &'static str = "password_link_minutes";
    /// Up to 30 days: a welcome link is a password-equivalent in an inbox.
    pub const WELCOME_HOURS: std::ops::RangeInclusive<i64> = 1..=720;
    /// Up to a day, at least long enough to open the email.
    pub const PASSWORD_MINUTES: std::ops::RangeInclusive<i64> = 5..=1440;

    pub fn parse(
        welcome_link_hours: &str,
        password_link_minutes: &str,
    ) -> Result<Self, Vec<FieldError>> {
        fn whole_number(
            input: &str,
            field: &str,
            range: std::ops::RangeInclusive<i64>,
            unit: &str,
        ) -> Result<i64, FieldError> {
            input
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|n| range.contains(n))
                .ok_or_else(|| {
                    FieldError::new(
                        field,
                        format!(
                            "Enter a whole number of {unit} from {} to {}",
                            range.start(),
                            range.end()
                        ),
                    )
                })
        }
        let welcome = whole_number(
            welcome_link_hours,
            Self::WELCOME_FIELD,
            Self::WELCOME_HOURS,
            "hours",
        );
        let password = whole_number(
            password_link_minutes,
            Self::PASSWORD_FIELD,
            Self::PASSWORD_MINUTES,
            "minutes",
        );
        match (welcome, password) {
            (Ok(welcome_link_hours), Ok(password_link_minutes)) => Ok(Self {
                welcome_link_hours,
                password_link_minutes,
            }),
            (welcome, password) => Err([welcome.err(), password.err()]
                .into_iter()
                .flatten()
                .collect()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_lifetimes_accept_whole_numbers_in_range() {
        assert_eq!(
            LinkLifetimes::parse(" 72 ", "60"),
            Ok(LinkLifetimes {
                welcome_link_hours: 72,
                password_link_minutes: 60
            })
        );
        assert!(LinkLifetimes::parse("1", "5").is_ok());
        assert!(LinkLifetimes::parse("720", "1440").is_ok());
    }

    #[test]
    fn link_lifetimes_outside_their_range_name_the_field_and_range() {
        for (hours, minutes, fields) in [
            ("0", "60", vec!["welcome_link_hours"]),
            ("721", "60", vec!["welcome_link_hours"]),
            ("72", "4", vec!["password_link_minutes"]),
            (
                "1.5",
                "",
                vec!["welcome_link_hours", "password_link_minutes"],
            ),
            (
                "-3",
                "1441",
                vec!["welcome_link_hours", "password_link_minutes"],
            ),
        ] {
            let errors = LinkLifetimes::parse(hours, minutes).expect_err(hours);
            let named: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
            assert_eq!(named, fields, "{hours} / {minutes}");
        }
        let errors = LinkLifetimes::parse("0", "60").unwrap_err();
        assert_eq!(
            errors[0].message,
            "Enter a whole number of hours from 1 to 720"
        );
    }

    fn message(input: &str) -> String {
        OrganisationName::parse(input).expect_err(input).message
    }

    #[test]
    fn ordinary_organisation_names_are_accepted() {
        let names = [
            "Leeds City Council",
            "St Mary’s C of E Primary School (Leeds)",
            "Ysgol Gymraeg Aberystwyth",
            "Smith & Sons",
            "3D Learning Ltd.",
            "École Sainte-Thérèse",
            "東京都立高校",
            "IT",
        ];
        for name in names {
            assert_eq!(OrganisationName::parse(name).expect(name).as_str(), name);
        }
    }

    #[test]
    fn a_name_is_trimmed_and_inner_whitespace_collapsed() {
        let name = OrganisationName::parse("  Leeds \t City\nCouncil ").expect("valid");
        assert_eq!(name.as_str(), "Leeds City Council");
    }

    #[test]
    fn a_missing_name_is_rejected_with_a_prompt() {
        for input in ["", "  \t\n "] {
            let error = OrganisationName::parse(input).expect_err(input);
            assert_eq!(
                error,
                FieldError::new("organisation_name", "Enter an organisation name")
            );
        }
    }

    #[test]
    fn a_name_of_one_character_is_rejected() {
        assert_eq!(
            message("A"),
            "Organisation name must be at least 2 characters"
        );
    }

    #[test]
    fn a_name_of_101_characters_is_rejected() {
        assert!(OrganisationName::parse(&"a".repeat(100)).is_ok());
        assert_eq!(
            message(&"a".repeat(101)),
            "Organisation name must be 100 characters or fewer"
        );
        assert_eq!(
            message(&"a".repeat(10_000)),
            "Organisation name must be 100 characters or fewer"
        );
    }

    #[test]
    fn a_name_without_a_letter_is_rejected() {
        for input in ["12345", "😀😀", "---", "<>"] {
            assert_eq!(
                message(input),
                "Organisation name must contain at least one letter"
            );
        }
    }

    #[test]
    fn control_and_invisible_characters_are_rejected() {
        for input in [
            "Acme\0",
            "Acme\u{202E}Ltd",
            "Acme\u{200D}Ltd",
            "Acme\u{FEFF}",
            "Acme\u{1B}[31m",
        ] {
            assert_eq!(
                message(input),
                "Organisation name must not contain control or invisible characters",
                "{input:?}"
            );
        }
    }

    #[test]
    fn markup_and_sql_are_kept_as_plain_text() {
        for input in [
            "<script>alert(1)</script>",
            "Robert'); DROP TABLE users;--",
            "Acme 😀",
        ] {
            assert_eq!(OrganisationName::parse(input).expect(input).as_str(), input);
        }
    }

    #[test]
    fn deserialising_validates() {
        let name: OrganisationName = serde_json::from_str("\" Acme \"").expect("valid");
        assert_eq!(name.as_str(), "Acme");
        assert!(serde_json::from_str::<OrganisationName>("\"1\"").is_err());
    }
}
