//! A person's first and last names.

use unicode_normalization::char::is_combining_mark;

use super::{FieldError, char_count, collapse_whitespace, nfc};

/// The most combining marks that may follow one letter. Decomposed Vietnamese needs
/// two ("ễ" is e + circumflex + tilde); the bound refuses "Zalgo" text stacking dozens.
const MAX_MARKS_PER_LETTER: usize = 4;

/// A first name: letters of any script, spaces, apostrophes (' and ’), hyphens and full
/// stops; at least one letter; 1–100 characters once trimmed, whitespace runs collapsed
/// and NFC-normalised.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FirstName(String);

/// A last name, under the same rules as [`FirstName`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LastName(String);

validated_text!(FirstName);
validated_text!(LastName);

impl FirstName {
    pub const FIELD: &'static str = "first_name";
    pub const MAX_CHARS: usize = MAX_CHARS;

    pub fn parse(input: &str) -> Result<Self, FieldError> {
        parse_name(input, Self::FIELD, "first name").map(Self)
    }
}

impl LastName {
    pub const FIELD: &'static str = "last_name";
    pub const MAX_CHARS: usize = MAX_CHARS;

    pub fn parse(input: &str) -> Result<Self, FieldError> {
        parse_name(input, Self::FIELD, "last name").map(Self)
    }
}

const MAX_CHARS: usize = 100;

/// The rules shared by first and last names; `label` is "first name" or "last name".
fn parse_name(input: &str, field: &str, label: &str) -> Result<String, FieldError> {
    let refuse = |message: String| Err(FieldError::new(field, message));
    let value = nfc(&collapse_whitespace(input));
    let capitalised = capitalise(label);
    if value.is_empty() {
        return refuse(format!("Enter a {label}"));
    }
    if char_count(&value) > MAX_CHARS {
        return refuse(format!(
            "{capitalised} must be {MAX_CHARS} characters or fewer"
        ));
    }
    if !has_only_name_characters(&value) {
        return refuse(format!(
            "{capitalised} can only contain letters, spaces, apostrophes, hyphens and full stops"
        ));
    }
    if !value.chars().any(char::is_alphabetic) {
        return refuse(format!("{capitalised} must contain at least one letter"));
    }
    Ok(value)
}

/// Letters of any script (with up to [`MAX_MARKS_PER_LETTER`] combining marks after
/// each), spaces, apostrophes, hyphens and full stops.
fn has_only_name_characters(name: &str) -> bool {
    let mut marks_allowed = 0;
    for c in name.chars() {
        if c.is_alphabetic() {
            marks_allowed = MAX_MARKS_PER_LETTER;
        } else if is_combining_mark(c) && marks_allowed > 0 {
            marks_allowed -= 1;
        } else if matches!(c, ' ' | '\'' | '’' | '-' | '.') {
            marks_allowed = 0;
        } else {
            return false;
        }
    }
    true
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => crate::uppercase(first.encode_utf8(&mut [0; 4])) + chars.as_str(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIRST_NAME_CHARACTERS: &str =
        "First name can only contain letters, spaces, apostrophes, hyphens and full stops";

    #[test]
    fn names_in_many_scripts_and_with_punctuation_are_accepted() {
        let names = [
            "Siân",
            "O’Brien",
            "O'Brien",
            "Nguyễn",
            "Zoë",
            "Ståle",
            "Jean-Luc",
            "Mary Ann",
            "St. John",
            "Łukasz",
            "山田",
            "Иван",
            "محمد",
            "Ngũgĩ",
            "Αλέξανδρος",
            "José María",
            "D'Arcy-Smith",
        ];
        for name in names {
            let first = FirstName::parse(name).expect(name);
            assert_eq!(first.as_str(), name);
            let last = LastName::parse(name).expect(name);
            assert_eq!(last.as_ref(), name);
        }
    }

    #[test]
    fn a_decomposed_name_is_accepted_and_stored_composed() {
        let decomposed = "Nguye\u{0302}\u{0303}n";
        let name = LastName::parse(decomposed).expect("decomposed Nguyễn");
        assert_eq!(name.as_str(), "Nguyễn");
        assert_eq!(name.as_str().chars().count(), 6);
    }

    #[test]
    fn a_combining_mark_with_no_composed_form_is_accepted_after_a_letter() {
        // "n" with a diaeresis has no precomposed character, so it stays two.
        let name = FirstName::parse("An\u{0308}a").expect("mark after a letter");
        assert_eq!(name.as_str(), "An\u{0308}a");
    }

    #[test]
    fn names_are_trimmed_and_inner_whitespace_is_collapsed() {
        let cases = [
            ("  Siân  ", "Siân"),
            ("Mary    Ann", "Mary Ann"),
            ("Mary\tAnn", "Mary Ann"),
            ("Mary\u{00A0}Ann", "Mary Ann"),
        ];
        for (input, expected) in cases {
            assert_eq!(FirstName::parse(input).expect(input).as_str(), expected);
        }
    }

    #[test]
    fn a_name_of_exactly_100_characters_is_accepted_and_101_is_rejected() {
        assert!(FirstName::parse(&"é".repeat(100)).is_ok());
        let error = FirstName::parse(&"é".repeat(101)).expect_err("101 characters");
        assert_eq!(error.message, "First name must be 100 characters or fewer");
    }

    #[test]
    fn the_length_is_counted_after_composition() {
        // 100 letters typed decomposed are 200 code points but 100 characters.
        assert!(FirstName::parse(&"e\u{0301}".repeat(100)).is_ok());
    }

    #[test]
    fn a_missing_name_is_rejected_with_a_prompt() {
        for input in ["", "   ", "\t\n", "\u{3000}"] {
            let first = FirstName::parse(input).expect_err(input);
            assert_eq!(first, FieldError::new("first_name", "Enter a first name"));
            let last = LastName::parse(input).expect_err(input);
            assert_eq!(last, FieldError::new("last_name", "Enter a last name"));
        }
    }

    #[test]
    fn hostile_or_unusual_characters_are_rejected() {
        let inputs = [
            "J0hn",
            "Anne2",
            "<script>alert(1)</script>",
            "Robert'); DROP TABLE users;--",
            "Ann\0",
            "Ann\u{202E}nna",
            "Zo\u{200D}e",
            "Zo\u{200B}e",
            "Ann\u{00AD}a",
            "😀",
            "Ann 😀",
            "Ann_Smith",
            "Ann@example",
            "Ann, Mary",
            "Ann/Mary",
            "\u{0301}Ann",
            "Ann \u{0301}",
            "Ann\u{E000}",
        ];
        for input in inputs {
            let error = FirstName::parse(input).expect_err(input);
            assert_eq!(error.field, "first_name", "{input:?}");
            assert_eq!(error.message, FIRST_NAME_CHARACTERS, "{input:?}");
        }
    }

    #[test]
    fn a_letter_with_too_many_stacked_marks_is_rejected() {
        assert!(FirstName::parse("Zx\u{0301}\u{0302}\u{0303}\u{0304}").is_ok());
        let zalgo = "Zx\u{0301}\u{0302}\u{0303}\u{0304}\u{0305}";
        let error = FirstName::parse(zalgo).expect_err("five marks on one letter");
        assert_eq!(error.message, FIRST_NAME_CHARACTERS);
    }

    #[test]
    fn a_name_without_any_letter_is_rejected() {
        for input in [".", "-", "'", "’", ". - '"] {
            let error = LastName::parse(input).expect_err(input);
            assert_eq!(error.message, "Last name must contain at least one letter");
        }
    }

    #[test]
    fn ten_thousand_characters_are_rejected_as_too_long() {
        let error = LastName::parse(&"a".repeat(10_000)).expect_err("10,000 characters");
        assert_eq!(
            error,
            FieldError::new("last_name", "Last name must be 100 characters or fewer")
        );
    }

    #[test]
    fn deserialising_validates_and_serialising_gives_the_plain_string() {
        let name: FirstName = serde_json::from_str("\"  Siân \"").expect("valid name");
        assert_eq!(name.as_str(), "Siân");
        assert_eq!(
            serde_json::to_string(&name).expect("serialises"),
            "\"Siân\""
        );
        assert!(serde_json::from_str::<LastName>("\"<script>\"").is_err());
        assert!(serde_json::from_str::<LastName>("\"\"").is_err());
    }

    #[test]
    fn a_name_displays_as_itself() {
        assert_eq!(FirstName::parse("Zoë").expect("Zoë").to_string(), "Zoë");
        assert_eq!(
            String::from(LastName::parse("Ståle").expect("Ståle")),
            "Ståle"
        );
    }
}
