//! An organisation's name.

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

#[cfg(test)]
mod tests {
    use super::*;

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
