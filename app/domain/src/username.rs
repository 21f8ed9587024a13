//! Usernames, their generation from a person's names, and the sign-in [`Login`].

use super::{
    FieldError, FirstName, LastName, char_count, fold_to_ascii, is_control_or_invisible, nfc,
};

const MIN_CHARS: usize = 5;
const MAX_CHARS: usize = 30;
/// The allowed characters that are not letters or digits; a generated username never
/// ends with one.
const SEPARATORS: [char; 4] = ['.', '-', '_', '@'];

/// A username: 5–30 characters from A–Z, a–z, 0–9 and `@ . - _`, starting with a
/// letter. Trimmed, otherwise stored as typed; compare with [`Username::normalized`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Username(String);

validated_text!(Username);

impl Username {
    pub const FIELD: &'static str = "username";
    pub const MIN_CHARS: usize = MIN_CHARS;
    pub const MAX_CHARS: usize = MAX_CHARS;

    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let refuse = |message: &str| Err(FieldError::new(Self::FIELD, message));
        let value = input.trim();
        if value.is_empty() {
            return refuse("Enter a username");
        }
        if !value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || SEPARATORS.contains(&c))
        {
            return refuse(
                "Username can only contain letters A to Z, digits 0 to 9 and the characters @ . - _",
            );
        }
        if !value.starts_with(|c: char| c.is_ascii_alphabetic()) {
            return refuse("Username must start with a letter");
        }
        // Only ASCII is left, so bytes are characters.
        if value.len() < MIN_CHARS {
            return refuse("Username must be at least 5 characters");
        }
        if value.len() > MAX_CHARS {
            return refuse("Username must be 30 characters or fewer");
        }
        Ok(Self(value.to_owned()))
    }

    /// The lower-cased username, used to compare usernames for uniqueness.
    pub fn normalized(&self) -> String {
        self.0.to_ascii_lowercase()
    }

    /// The username suggested for a person: `first.last`, lower-cased, accents and other
    /// marks removed (é→e, ŵ→w, ß→ss, ø→o…), hyphens kept ("jean-luc.picard"), every other
    /// character dropped (spaces, apostrophes, full stops, letters of scripts that do not
    /// fold to Latin); cut to 30 characters, never ending in `. - _ @`.
    ///
    /// Shorter than 5 characters, it is padded with a zero-padded sequence number
    /// ("a.b" → "a.b01", "yuki" → "yuki1"); the alternatives count on from 2. With only
    /// one name usable it is that name alone. With neither usable (both in, say, Han or
    /// Cyrillic script) it is `user` and six digits derived from the names (a 32-bit
    /// FNV-1a hash), the same every time for the same names.
    pub fn from_names(first: &FirstName, last: &LastName) -> Self {
        Self::generated(plain(&Parts::new(first, last).stem()))
    }

    /// Further suggestions, in order, for when [`Username::from_names`] is taken:
    /// `first.last2` … `first.last9`, `f.last`, `first.l`, `firstlast`, `f.last2` …
    /// `f.last9`, `firstlast2` … `firstlast9` (the initial forms only when both names
    /// are usable). All valid, distinct and different from the suggestion itself.
    pub fn alternatives(first: &FirstName, last: &LastName) -> Vec<Self> {
        let parts = Parts::new(first, last);
        let stem = parts.stem();
        let mut candidates: Vec<String> = (2..=9).map(|n| numbered(&stem, n)).collect();
        if let (Some(f), Some(l)) = (parts.first.get(..1), parts.last.get(..1)) {
            let initial_last = format!("{f}.{}", parts.last);
            let first_initial = format!("{}.{l}", parts.first);
            let joined = format!("{}{}", parts.first, parts.last);
            candidates.push(plain(&initial_last));
            candidates.push(plain(&first_initial));
            candidates.push(plain(&joined));
            candidates.extend((2..=9).map(|n| numbered(&initial_last, n)));
            candidates.extend((2..=9).map(|n| numbered(&joined, n)));
        }
        let primary = plain(&stem);
        let mut alternatives: Vec<Self> = Vec::with_capacity(candidates.len());
        for candidate in candidates {
            if candidate != primary && !alternatives.iter().any(|a| a.0 == candidate) {
                alternatives.push(Self::generated(candidate));
            }
        }
        alternatives
    }

    /// Wraps a generated username, which satisfies the rules by construction.
    fn generated(value: String) -> Self {
        debug_assert!(
            Self::parse(&value).is_ok(),
            "generated an invalid username {value:?}"
        );
        Self(value)
    }
}

/// The usable parts of a person's names: lower-case ASCII letters and single inner
/// hyphens, each starting and ending with a letter (or empty).
struct Parts {
    first: String,
    last: String,
    fallback: String,
}

impl Parts {
    fn new(first: &FirstName, last: &LastName) -> Self {
        Self {
            first: usable_part(first.as_str()),
            last: usable_part(last.as_str()),
            fallback: fallback_stem(first.as_str(), last.as_str()),
        }
    }

    /// `first.last`, or the one usable name, or the fallback.
    fn stem(&self) -> String {
        match (self.first.is_empty(), self.last.is_empty()) {
            (false, false) => format!("{}.{}", self.first, self.last),
            (false, true) => self.first.clone(),
            (true, false) => self.last.clone(),
            (true, true) => self.fallback.clone(),
        }
    }
}

fn usable_part(name: &str) -> String {
    let kept: String = fold_to_ascii(name)
        .chars()
        .filter(|c| c.is_ascii_lowercase() || *c == '-')
        .collect();
    kept.split('-')
        .filter(|piece| !piece.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

/// `user` and six digits from a 32-bit FNV-1a hash of both names.
fn fallback_stem(first: &str, last: &str) -> String {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in first.bytes().chain([0x1f]).chain(last.bytes()) {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    format!("user{:06}", hash % 1_000_000)
}

/// The stem as a username: cut to 30 characters, or numbered 1 if shorter than 5.
fn plain(stem: &str) -> String {
    if char_count(stem) < MIN_CHARS {
        numbered(stem, 1)
    } else {
        cut(stem, MAX_CHARS).to_owned()
    }
}

/// The stem followed by `n`, zero-padded so the whole reaches 5 characters, the stem
/// cut so the whole stays within 30.
fn numbered(stem: &str, n: u32) -> String {
    let width = MIN_CHARS.saturating_sub(char_count(stem)).max(1);
    let suffix = format!("{n:0width$}");
    format!("{}{suffix}", cut(stem, MAX_CHARS - suffix.len()))
}

/// At most `max` characters of `stem`, with trailing separators removed.
fn cut(stem: &str, max: usize) -> &str {
    let end = stem.char_indices().nth(max).map_or(stem.len(), |(i, _)| i);
    stem[..end].trim_end_matches(SEPARATORS)
}

/// What a person types to sign in: a username or an email address. Trimmed and
/// NFC-normalised, 1–254 characters, no control or invisible characters; looked up by
/// [`Login::normalized`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Login(String);

validated_text!(Login);

impl Login {
    pub const FIELD: &'static str = "login";
    pub const MAX_CHARS: usize = 254;

    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let refuse = |message: &str| Err(FieldError::new(Self::FIELD, message));
        let value = nfc(input.trim());
        if value.is_empty() {
            return refuse("Enter your username or email address");
        }
        if char_count(&value) > Self::MAX_CHARS {
            return refuse("Username or email address must be 254 characters or fewer");
        }
        if value.chars().any(is_control_or_invisible) {
            return refuse("Username or email address contains a character that is not allowed");
        }
        Ok(Self(value))
    }

    /// The lower-cased login, compared with normalised usernames and email addresses.
    pub fn normalized(&self) -> String {
        self.0.to_lowercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHARACTERS: &str =
        "Username can only contain letters A to Z, digits 0 to 9 and the characters @ . - _";

    fn names(first: &str, last: &str) -> (FirstName, LastName) {
        (
            FirstName::parse(first).expect(first),
            LastName::parse(last).expect(last),
        )
    }

    fn generated(first: &str, last: &str) -> String {
        let (first, last) = names(first, last);
        Username::from_names(&first, &last).to_string()
    }

    fn alternatives(first: &str, last: &str) -> Vec<String> {
        let (first, last) = names(first, last);
        Username::alternatives(&first, &last)
            .into_iter()
            .map(String::from)
            .collect()
    }

    fn message(input: &str) -> String {
        Username::parse(input).expect_err(input).message
    }

    #[test]
    fn usernames_that_follow_the_rules_are_accepted_as_typed() {
        let inputs = [
            "jsmith",
            "JSmith",
            "jean-luc.picard",
            "a_b@c.d",
            "abcde",
            "user2024",
            &"a".repeat(30),
        ];
        for input in inputs {
            assert_eq!(Username::parse(input).expect(input).as_str(), input);
        }
    }

    #[test]
    fn a_username_is_trimmed() {
        assert_eq!(
            Username::parse("  jsmith\n").expect("padded").as_str(),
            "jsmith"
        );
    }

    #[test]
    fn the_normalized_form_is_lower_case() {
        assert_eq!(
            Username::parse("J.Smith").expect("valid").normalized(),
            "j.smith"
        );
    }

    #[test]
    fn a_missing_username_is_rejected_with_a_prompt() {
        for input in ["", "    "] {
            let error = Username::parse(input).expect_err(input);
            assert_eq!(error, FieldError::new("username", "Enter a username"));
        }
    }

    #[test]
    fn a_username_starting_with_a_digit_is_rejected() {
        assert_eq!(message("1jsmith"), "Username must start with a letter");
    }

    #[test]
    fn a_username_starting_with_a_symbol_is_rejected() {
        for input in [".jsmith", "-jsmith", "_jsmith", "@jsmith"] {
            assert_eq!(
                message(input),
                "Username must start with a letter",
                "{input:?}"
            );
        }
    }

    #[test]
    fn a_username_of_four_characters_is_rejected() {
        assert_eq!(message("abcd"), "Username must be at least 5 characters");
    }

    #[test]
    fn a_username_of_31_characters_is_rejected() {
        assert_eq!(
            message(&"a".repeat(31)),
            "Username must be 30 characters or fewer"
        );
    }

    #[test]
    fn ten_thousand_characters_are_rejected_as_too_long() {
        assert_eq!(
            message(&"a".repeat(10_000)),
            "Username must be 30 characters or fewer"
        );
    }

    #[test]
    fn characters_outside_the_allowed_set_are_rejected() {
        let inputs = [
            "siân.jones",
            "jean picard",
            "jsmith!",
            "j+smith",
            "jsmith\0",
            "js\u{202E}mith",
            "js\u{200D}mith",
            "jsmith😀",
            "ｊｓｍｉｔｈ",
            "<script>alert(1)</script>",
            "robert');DROP TABLE users;--",
            "x' OR '1'='1",
            &"😀".repeat(10_000),
        ];
        for input in inputs {
            assert_eq!(message(input), CHARACTERS, "{input:?}");
        }
    }

    #[test]
    fn deserialising_validates() {
        let username: Username = serde_json::from_str("\"jsmith\"").expect("valid");
        assert_eq!(username.as_str(), "jsmith");
        assert_eq!(
            serde_json::to_string(&username).expect("serialises"),
            "\"jsmith\""
        );
        assert!(serde_json::from_str::<Username>("\"1abc\"").is_err());
    }

    #[test]
    fn a_username_is_generated_as_first_dot_last_without_accents() {
        let cases = [
            ("Siân", "O’Brien", "sian.obrien"),
            ("Zoë", "Ståle", "zoe.stale"),
            ("Nguyễn", "Văn", "nguyen.van"),
            ("Nguye\u{0302}\u{0303}n", "Va\u{0306}n", "nguyen.van"),
            ("Jean-Luc", "Picard", "jean-luc.picard"),
            ("Jürgen", "Weiß", "jurgen.weiss"),
            ("Ægir", "Ødegård", "aegir.odegard"),
            ("Łukasz", "Żółw", "lukasz.zolw"),
            ("Thảo", "Đặng", "thao.dang"),
            ("Þóra", "Œuvre", "thora.oeuvre"),
            ("Siôn", "Ŵyn", "sion.wyn"),
            ("José", "Muñoz", "jose.munoz"),
            ("Mary Ann", "Smith", "maryann.smith"),
            ("St. John", "D'Arcy", "stjohn.darcy"),
            ("ZOË", "STÅLE", "zoe.stale"),
            ("Anne-", "-Marie", "anne.marie"),
            ("Al", "Li", "al.li"),
        ];
        for (first, last, expected) in cases {
            assert_eq!(generated(first, last), expected, "{first} {last}");
        }
    }

    #[test]
    fn a_short_generated_username_is_padded_with_a_number() {
        assert_eq!(generated("A", "B"), "a.b01");
        assert_eq!(generated("Jo", "Li"), "jo.li");
    }

    #[test]
    fn a_name_in_another_script_is_left_out_of_the_username() {
        assert_eq!(generated("Yuki", "山田"), "yuki1");
        assert_eq!(generated("Иван", "Petrov"), "petrov");
        assert_eq!(generated("Jean-山田", "Picard"), "jean.picard");
    }

    #[test]
    fn names_with_nothing_usable_give_a_stable_user_number() {
        let taro = generated("太郎", "山田");
        assert!(taro.starts_with("user"), "{taro}");
        assert_eq!(taro.len(), 10);
        assert!(taro[4..].chars().all(|c| c.is_ascii_digit()), "{taro}");
        assert_eq!(generated("太郎", "山田"), taro);
        assert_ne!(generated("Иван", "Иванов"), taro);
    }

    #[test]
    fn a_sixty_character_name_is_cut_to_thirty_without_a_trailing_dot() {
        let first = "a".repeat(29);
        let last = "b".repeat(31);
        let username = generated(&first, &last);
        assert_eq!(username, first);
        assert!(Username::parse(&username).is_ok());
    }

    #[test]
    fn a_long_name_cut_at_a_hyphen_does_not_end_with_it() {
        let first = format!("{}-Luc", "a".repeat(29));
        assert_eq!(generated(&first, "Picard"), "a".repeat(29));
        let last = format!("{}-{}", "b".repeat(26), "c".repeat(20));
        assert_eq!(generated("Al", &last), format!("al.{}", "b".repeat(26)));
    }

    #[test]
    fn alternatives_follow_the_documented_order() {
        let expected: Vec<String> = (2..=9)
            .map(|n| format!("jean.picard{n}"))
            .chain(["j.picard".into(), "jean.p".into(), "jeanpicard".into()])
            .chain((2..=9).map(|n| format!("j.picard{n}")))
            .chain((2..=9).map(|n| format!("jeanpicard{n}")))
            .collect();
        assert_eq!(alternatives("Jean", "Picard"), expected);
    }

    #[test]
    fn alternatives_of_a_short_name_are_padded_and_never_repeat_the_suggestion() {
        let alternatives = alternatives("A", "B");
        assert_eq!(&alternatives[..3], ["a.b02", "a.b03", "a.b04"]);
        assert!(!alternatives.contains(&"a.b01".to_owned()));
        assert!(alternatives.contains(&"ab001".to_owned()));
    }

    #[test]
    fn alternatives_with_one_usable_name_count_on_from_it() {
        let expected: Vec<String> = (2..=9).map(|n| format!("yuki{n}")).collect();
        assert_eq!(alternatives("Yuki", "山田"), expected);
    }

    #[test]
    fn every_generated_username_and_alternative_is_valid_and_distinct() {
        let long = "Bartholomew-Maximilian Alexander";
        let pairs = [
            ("Siân", "O’Brien"),
            ("A", "B"),
            ("Al", "Li"),
            ("Yuki", "山田"),
            ("太郎", "山田"),
            ("محمد", "Иван"),
            (long, long),
            ("Jean-Luc", &"x".repeat(100)),
            (&"y".repeat(100), "Picard"),
        ];
        for (first, last) in pairs {
            let primary = generated(first, last);
            assert!(Username::parse(&primary).is_ok(), "{primary:?}");
            let alternatives = alternatives(first, last);
            assert!(alternatives.len() >= 8, "{first} {last}");
            for (i, alternative) in alternatives.iter().enumerate() {
                let parsed = Username::parse(alternative).expect(alternative);
                assert_eq!(parsed.as_str(), alternative);
                assert!(!alternative.ends_with(SEPARATORS), "{alternative:?}");
                assert_ne!(alternative, &primary);
                assert!(
                    !alternatives[..i].contains(alternative),
                    "{alternative:?} repeated"
                );
            }
        }
    }

    #[test]
    fn a_login_is_trimmed_and_normalised() {
        let login = Login::parse("  J.Smith@Example.com ").expect("valid");
        assert_eq!(login.as_str(), "J.Smith@Example.com");
        assert_eq!(login.normalized(), "j.smith@example.com");
        let decomposed = Login::parse("sia\u{0302}n@example.com").expect("valid");
        assert_eq!(decomposed.as_str(), "siân@example.com");
    }

    #[test]
    fn a_login_keeps_text_that_cannot_match_anyone_for_the_lookup_to_refuse() {
        for input in [
            "<script>alert(1)</script>",
            "x' OR '1'='1",
            "😀",
            "jean picard",
        ] {
            assert_eq!(Login::parse(input).expect(input).as_str(), input);
        }
    }

    #[test]
    fn a_missing_login_is_rejected_with_a_prompt() {
        for input in ["", " \t "] {
            let error = Login::parse(input).expect_err(input);
            assert_eq!(
                error,
                FieldError::new("login", "Enter your username or email address")
            );
        }
    }

    #[test]
    fn a_login_with_controls_or_invisible_characters_is_rejected() {
        for input in [
            "jsmith\0",
            "js\u{202E}mith",
            "js\u{200D}mith",
            "js\u{1B}mith",
        ] {
            let error = Login::parse(input).expect_err(input);
            assert_eq!(
                error.message,
                "Username or email address contains a character that is not allowed"
            );
        }
    }

    #[test]
    fn a_login_longer_than_254_characters_is_rejected() {
        assert!(Login::parse(&"a".repeat(254)).is_ok());
        for length in [255, 10_000] {
            let error = Login::parse(&"a".repeat(length)).expect_err("too long");
            assert_eq!(
                error.message,
                "Username or email address must be 254 characters or fewer"
            );
        }
    }
}
