//! The password policy.
//!
//! A password is kept exactly as typed, only NFC-normalised (so the same characters
//! typed on different keyboards are the same password). There are no composition
//! rules; instead a password is refused when it is too short or too long, one
//! character repeated, in the shipped list of common passwords, or contains the
//! person's own name, username or email address.

use std::fmt;

use super::{FieldError, char_count, fold_to_ascii, nfc};

const MIN_CHARS: usize = 12;
const MAX_CHARS: usize = 128;
/// Parts of the person's details shorter than this turn up in passwords by chance too
/// often to be refused.
const MIN_CONTEXT_CHARS: usize = 3;

/// Common passwords of 12 or more characters, lower-cased, one per line; `#` lines are
/// comments naming the source and licence. Only the server carries the list: in the
/// browser it would cost about a tenth of the bundle budget (docs/benchmarks.md), and
/// the server's answer to a common password is shown beside the field all the same.
#[cfg(not(target_arch = "wasm32"))]
const COMMON_PASSWORDS: &str = include_str!("common_passwords.txt");

/// What a password must not contain: the person's details as currently typed (plain
/// strings, so the browser can check while the form is being filled in). Empty
/// strings, and parts shorter than 3 characters, are ignored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PasswordContext<'a> {
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub username: &'a str,
    pub email: &'a str,
}

/// A password that meets the policy. It never prints (its `Debug` shows
/// `Password(***)`) and is not `Serialize`; read it with [`Password::expose`] only to
/// hash it.
#[derive(Clone)]
pub struct Password(String);

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

impl Password {
    pub const FIELD: &'static str = "password";
    pub const MIN_CHARS: usize = MIN_CHARS;
    pub const MAX_CHARS: usize = MAX_CHARS;

    pub fn parse(input: &str, context: &PasswordContext<'_>) -> Result<Self, FieldError> {
        let refuse = |message: &str| Err(FieldError::new(Self::FIELD, message));
        let value = nfc(input);
        let length = char_count(&value);
        if length == 0 {
            return refuse("Enter a password");
        }
        if length < MIN_CHARS {
            return refuse("Password must be at least 12 characters");
        }
        if length > MAX_CHARS {
            return refuse("Password must be 128 characters or fewer");
        }
        if value.chars().any(char::is_control) {
            return refuse(
                "Password must not contain control characters, such as tabs or line breaks",
            );
        }
        let lower = crate::lowercase(&value);
        if is_one_character_repeated(&lower) {
            return refuse("Password must not be one character repeated");
        }
        if is_common(&lower) {
            return refuse("This password is too common: choose one that is harder to guess");
        }
        let contains_any =
            |needles: Vec<String>| needles.iter().any(|n| lower.contains(n.as_str()));
        if contains_any(name_needles(context.first_name))
            || contains_any(name_needles(context.last_name))
        {
            return refuse("Password must not contain your name");
        }
        if contains_any(whole_needle(context.username)) {
            return refuse("Password must not contain your username");
        }
        let local_part = context
            .email
            .rsplit_once('@')
            .map_or(context.email, |(local, _)| local);
        if contains_any(whole_needle(local_part)) {
            return refuse("Password must not contain your email address");
        }
        Ok(Self(value))
    }

    /// The password as typed (NFC-normalised), for hashing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// The password policy in a sentence or two, for the form's hint.
pub fn password_rules_hint() -> &'static str {
    "Use 12 to 128 characters. A few unrelated words make a password that is long and easy \
     to remember. Common passwords, and passwords containing your name, username or email \
     address, are not accepted."
}

fn is_one_character_repeated(password: &str) -> bool {
    let mut chars = password.chars();
    chars.next().is_some_and(|first| chars.all(|c| c == first))
}

#[cfg(not(target_arch = "wasm32"))]
fn is_common(lower_case_password: &str) -> bool {
    common_passwords()
        .binary_search(&lower_case_password)
        .is_ok()
}

#[cfg(target_arch = "wasm32")]
fn is_common(_: &str) -> bool {
    false
}

/// The shipped list, sorted on first use for binary search.
#[cfg(not(target_arch = "wasm32"))]
fn common_passwords() -> &'static [&'static str] {
    static SORTED: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    SORTED.get_or_init(|| {
        let mut list: Vec<&str> = COMMON_PASSWORDS
            .lines()
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .collect();
        list.sort_unstable();
        list.dedup();
        list
    })
}

/// What a name gives to refuse, lower-cased: each of its words, all of them run
/// together, and the same folded to ASCII ("Siân O’Brien" → siân, sian, brien, siânobrien,
/// sianobrien; "o" is too short).
fn name_needles(name: &str) -> Vec<String> {
    let lower = crate::lowercase(&nfc(name));
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .collect();
    let mut needles: Vec<String> = words.iter().map(|word| (*word).to_owned()).collect();
    needles.push(words.concat());
    let folded: Vec<String> = needles.iter().map(|needle| fold_to_ascii(needle)).collect();
    needles.extend(folded);
    needles.retain(|needle| char_count(needle) >= MIN_CONTEXT_CHARS);
    needles
}

/// The whole value, trimmed and lower-cased, if it is long enough to refuse.
fn whole_needle(value: &str) -> Vec<String> {
    let lower = crate::lowercase(&nfc(value.trim()));
    if char_count(&lower) >= MIN_CONTEXT_CHARS {
        vec![lower]
    } else {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NO_CONTEXT: PasswordContext<'static> = PasswordContext {
        first_name: "",
        last_name: "",
        username: "",
        email: "",
    };

    const JEAN: PasswordContext<'static> = PasswordContext {
        first_name: "Jean-Luc",
        last_name: "Picard",
        username: "captain_jlp",
        email: "enterprise.one@example.com",
    };

    fn message(input: &str, context: &PasswordContext<'_>) -> String {
        Password::parse(input, context).expect_err(input).message
    }

    #[test]
    fn a_password_of_12_characters_is_accepted_and_11_is_rejected() {
        assert!(Password::parse("quiet river!", &NO_CONTEXT).is_ok());
        assert_eq!(
            message("quiet river", &NO_CONTEXT),
            "Password must be at least 12 characters"
        );
    }

    #[test]
    fn an_empty_password_is_rejected_with_a_prompt() {
        let error = Password::parse("", &NO_CONTEXT).expect_err("empty");
        assert_eq!(error, FieldError::new("password", "Enter a password"));
    }

    #[test]
    fn a_password_of_128_characters_is_accepted_and_129_is_rejected() {
        let pattern = "correct horse battery staple ";
        let long: String = pattern.chars().cycle().take(129).collect();
        let at_128: String = long.chars().take(128).collect();
        assert!(Password::parse(&at_128, &NO_CONTEXT).is_ok());
        assert_eq!(
            message(&long, &NO_CONTEXT),
            "Password must be 128 characters or fewer"
        );
    }

    #[test]
    fn ten_thousand_characters_are_rejected_as_too_long() {
        let input: String = "abc".chars().cycle().take(10_000).collect();
        assert_eq!(
            message(&input, &NO_CONTEXT),
            "Password must be 128 characters or fewer"
        );
    }

    #[test]
    fn a_password_is_kept_exactly_as_typed_with_its_spaces() {
        let typed = "  Quiet River  ";
        let password = Password::parse(typed, &NO_CONTEXT).expect("15 characters");
        assert_eq!(password.expose(), typed);
        // Ten characters and two spaces are twelve.
        assert!(Password::parse(" quietriver ", &NO_CONTEXT).is_ok());
    }

    #[test]
    fn a_password_is_nfc_normalised_and_counted_in_characters() {
        let decomposed = "Sia\u{0302}n-likes-tea";
        let password = Password::parse(decomposed, &NO_CONTEXT).expect("valid");
        assert_eq!(password.expose(), "Siân-likes-tea");
        // Twelve accented letters typed decomposed are 24 code points but 12 characters.
        assert!(Password::parse(&"ae\u{0301}".repeat(6), &NO_CONTEXT).is_ok());
        assert_eq!(
            message(&"e\u{0301}a".repeat(3), &NO_CONTEXT),
            "Password must be at least 12 characters"
        );
    }

    #[test]
    fn there_are_no_composition_rules() {
        for input in [
            "all lower case words",
            "ALLUPPERCASEWORDS",
            "1234 5678 9012 3456 x",
            "äöü ßøæ ŵŷ ŝĝ",
        ] {
            assert!(Password::parse(input, &NO_CONTEXT).is_ok(), "{input:?}");
        }
    }

    #[test]
    fn a_common_password_is_rejected_whatever_its_case() {
        for input in [
            "qwerty123456",
            "QWERTY123456",
            "Password1234",
            "1qaz2wsx3edc",
        ] {
            assert_eq!(
                message(input, &NO_CONTEXT),
                "This password is too common: choose one that is harder to guess",
                "{input:?}"
            );
        }
    }

    #[test]
    fn one_character_repeated_is_rejected() {
        for input in ["aaaaaaaaaaaa", "            ", &"ŵ".repeat(20)] {
            assert_eq!(
                message(input, &NO_CONTEXT),
                "Password must not be one character repeated",
                "{input:?}"
            );
        }
    }

    #[test]
    fn the_common_password_list_is_long_lower_case_and_small() {
        let list = common_passwords();
        assert!(list.len() >= 3_000, "{} entries", list.len());
        assert!(COMMON_PASSWORDS.len() < 60_000);
        assert!(COMMON_PASSWORDS.starts_with('#'));
        for entry in list {
            assert!(char_count(entry) >= MIN_CHARS, "{entry:?}");
            assert_eq!(entry.to_lowercase(), *entry);
            assert_eq!(entry.trim(), *entry);
        }
        let shipped = COMMON_PASSWORDS
            .lines()
            .filter(|line| !line.starts_with('#'))
            .count();
        assert_eq!(
            list.len(),
            shipped,
            "the shipped list has duplicates or blank lines"
        );
    }

    #[test]
    fn a_password_containing_the_first_or_last_name_is_rejected() {
        let inputs = [
            "jean-luc-rules-ok",
            "JEANLUC4ever!!",
            "my captain luc 99",
            "make it so, picard",
            "PiCaRd.of.the.Enterprise",
        ];
        for input in inputs {
            assert_eq!(
                message(input, &JEAN),
                "Password must not contain your name",
                "{input:?}"
            );
        }
    }

    #[test]
    fn a_name_is_found_with_or_without_its_accents() {
        let context = PasswordContext {
            first_name: "Siân",
            last_name: "O’Brien",
            ..NO_CONTEXT
        };
        for input in [
            "sian-likes-tea",
            "SIÂN likes tea",
            "tea with obrien",
            "o’brien's teapot",
        ] {
            assert_eq!(
                message(input, &context),
                "Password must not contain your name",
                "{input:?}"
            );
        }
    }

    #[test]
    fn a_password_containing_the_username_is_rejected() {
        assert_eq!(
            message("i am Captain_JLP ok", &JEAN),
            "Password must not contain your username"
        );
    }

    #[test]
    fn a_password_containing_the_email_address_is_rejected() {
        assert_eq!(
            message("enterprise.one.two.three", &JEAN),
            "Password must not contain your email address"
        );
        let typing = PasswordContext {
            email: "enterprise.one",
            ..NO_CONTEXT
        };
        assert_eq!(
            message("ENTERPRISE.ONE!!", &typing),
            "Password must not contain your email address"
        );
    }

    #[test]
    fn details_shorter_than_three_characters_are_ignored() {
        let context = PasswordContext {
            first_name: "Al",
            last_name: "O",
            username: "ab",
            email: "jo@example.com",
        };
        assert!(Password::parse("albatross wings for joanna", &context).is_ok());
        assert!(Password::parse("a sunny day in July", &PasswordContext::default()).is_ok());
    }

    #[test]
    fn a_password_with_control_characters_is_rejected() {
        for input in [
            "correct horse\0battery",
            "correct horse\tbattery",
            "correct\nhorse battery",
        ] {
            assert_eq!(
                message(input, &NO_CONTEXT),
                "Password must not contain control characters, such as tabs or line breaks",
                "{input:?}"
            );
        }
    }

    #[test]
    fn unusual_but_typeable_passwords_are_kept_as_typed() {
        let inputs = [
            "abc\u{202E}defghijklm",
            "family \u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467} time",
            "🐶🐱🐭🐹🐰🦊🐻🐼🐨🐯🦁🐮",
            "<script>alert(1)</script>",
            "Robert'); DROP TABLE users;--",
        ];
        for input in inputs {
            let password = Password::parse(input, &JEAN).expect(input);
            assert_eq!(password.expose(), input);
        }
    }

    #[test]
    fn debug_output_hides_the_password() {
        let password = Password::parse("correct horse battery", &NO_CONTEXT).expect("valid");
        let printed = format!("{password:?}");
        assert_eq!(printed, "Password(***)");
        assert!(!printed.contains("horse"));
    }

    #[test]
    fn the_hint_states_the_length_rule() {
        assert!(password_rules_hint().contains("12 to 128 characters"));
    }
}
