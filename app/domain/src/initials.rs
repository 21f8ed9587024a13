//! A person's initials.

use super::{FieldError, FirstName, LastName, char_count, nfc};

const MAX_CHARS: usize = 5;

/// Initials: 1–5 letters or digits of any script, trimmed, NFC-normalised and stored
/// in upper case ("jlp" is stored as "JLP"; a letter whose upper case is several
/// characters, such as "ß", stays as typed).
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Initials(String);

validated_text!(Initials);

impl Initials {
    pub const FIELD: &'static str = "initials";
    pub const MAX_CHARS: usize = MAX_CHARS;

    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let refuse = |message: &str| Err(FieldError::new(Self::FIELD, message));
        let value: String = nfc(input.trim()).chars().map(upper_case).collect();
        if value.is_empty() {
            return refuse("Enter initials");
        }
        if !value.chars().all(char::is_alphanumeric) {
            return refuse("Initials can only contain letters and digits");
        }
        if char_count(&value) > MAX_CHARS {
            return refuse("Initials must be 5 characters or fewer");
        }
        Ok(Self(value))
    }

    /// The upper-cased first letter of each part of the names, parts being separated by
    /// spaces and hyphens: "Jean-Luc Picard" → "JLP", "Siân O’Brien" → "SO",
    /// "Mary Ann St. John" → "MASJ". When there are more than 5, the first name gives
    /// up its later initials so that the last name's first initial is kept.
    pub fn suggest(first: &FirstName, last: &LastName) -> Self {
        let first = part_initials(first.as_str());
        let last = part_initials(last.as_str());
        let from_first = first.len().min(MAX_CHARS.saturating_sub(last.len()).max(1));
        let value: String = first
            .iter()
            .take(from_first)
            .chain(&last)
            .take(MAX_CHARS)
            .collect();
        debug_assert!(
            Self::parse(&value).is_ok(),
            "suggested invalid initials {value:?}"
        );
        Self(value)
    }
}

/// The upper-case first letter of each space- or hyphen-separated part of a name.
fn part_initials(name: &str) -> Vec<char> {
    name.split([' ', '-'])
        .filter_map(|part| part.chars().find(|c| c.is_alphabetic()))
        .map(upper_case)
        .collect()
}

/// The upper case of `c` when that is one character; otherwise `c` ("ß", "ŉ").
fn upper_case(c: char) -> char {
    let upper = crate::uppercase(c.encode_utf8(&mut [0; 4]));
    let mut upper = upper.chars();
    match (upper.next(), upper.next()) {
        (Some(single), None) => single,
        _ => c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn suggested(first: &str, last: &str) -> String {
        let first = FirstName::parse(first).expect(first);
        let last = LastName::parse(last).expect(last);
        Initials::suggest(&first, &last).to_string()
    }

    fn message(input: &str) -> String {
        Initials::parse(input).expect_err(input).message
    }

    #[test]
    fn letters_and_digits_are_accepted_and_stored_in_upper_case() {
        let cases = [
            ("JLP", "JLP"),
            ("jlp", "JLP"),
            (" so ", "SO"),
            ("A", "A"),
            ("AB12C", "AB12C"),
            ("zö", "ZÖ"),
            ("山田", "山田"),
            ("ив", "ИВ"),
        ];
        for (input, expected) in cases {
            assert_eq!(Initials::parse(input).expect(input).as_str(), expected);
        }
    }

    #[test]
    fn missing_initials_are_rejected_with_a_prompt() {
        for input in ["", "   "] {
            let error = Initials::parse(input).expect_err(input);
            assert_eq!(error, FieldError::new("initials", "Enter initials"));
        }
    }

    #[test]
    fn six_characters_are_rejected() {
        assert_eq!(message("ABCDEF"), "Initials must be 5 characters or fewer");
        assert_eq!(
            message(&"A".repeat(10_000)),
            "Initials must be 5 characters or fewer"
        );
    }

    #[test]
    fn a_letter_whose_upper_case_is_several_characters_stays_as_typed() {
        // "ß" upper-cases to "SS" and "ǰ" to "J" and a combining caron.
        assert_eq!(
            Initials::parse("abcdß").expect("five letters").as_str(),
            "ABCDß"
        );
        assert_eq!(Initials::parse("ǰ").expect("one letter").as_str(), "ǰ");
    }

    #[test]
    fn anything_but_letters_and_digits_is_rejected() {
        let inputs = [
            "J.L.P",
            "J L",
            "J-L",
            "JL\0",
            "J\u{202E}L",
            "J\u{200D}L",
            "😀",
            "<b>",
            "'--",
            "x' OR",
        ];
        for input in inputs {
            assert_eq!(
                message(input),
                "Initials can only contain letters and digits",
                "{input:?}"
            );
        }
    }

    #[test]
    fn initials_are_suggested_from_each_part_of_the_names() {
        let cases = [
            ("Jean-Luc", "Picard", "JLP"),
            ("Siân", "O’Brien", "SO"),
            ("zoë", "ståle", "ZS"),
            ("Mary Ann", "St. John", "MASJ"),
            ("Łukasz", "Żółw", "ŁŻ"),
            ("Иван", "Петров", "ИП"),
            ("太郎", "山田", "太山"),
            ("Ann", "D'Arcy-Smith", "ADS"),
        ];
        for (first, last, expected) in cases {
            assert_eq!(suggested(first, last), expected, "{first} {last}");
        }
    }

    #[test]
    fn suggested_initials_keep_the_last_name_when_there_are_too_many() {
        assert_eq!(
            suggested("Maria José Carmen Dolores Ana", "García"),
            "MJCDG"
        );
        assert_eq!(suggested("Ann", "A B C D E F"), "AABCD");
    }

    #[test]
    fn suggested_initials_are_always_valid() {
        for (first, last) in [("A", "B"), (". Ann", "- Bo"), ("ŉ", "ß"), ("ǰan", "Ǆemal")] {
            let initials = suggested(first, last);
            assert_eq!(
                Initials::parse(&initials).expect(&initials).as_str(),
                initials
            );
        }
    }

    #[test]
    fn deserialising_validates_and_upper_cases() {
        let initials: Initials = serde_json::from_str("\"jlp\"").expect("valid");
        assert_eq!(initials.as_str(), "JLP");
        assert!(serde_json::from_str::<Initials>("\"J.L.P\"").is_err());
    }
}
