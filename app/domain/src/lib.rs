//! Plain-Rust domain types, compiled for both the browser (wasm32) and the server.
//!
//! Every value a person types into a form has a newtype here with a private field and
//! one way in, `parse`, which returns the value or a [`FieldError`] for that form field.
//! The browser calls `parse` for instant feedback beside the field; the server calls it
//! again, authoritatively. Deserialising goes through `parse` too
//! (`#[serde(try_from = "String")]`), so an invalid value cannot arrive from outside.
//!
//! The types that cross the wire between browser and server live here too
//! (`wire`), with the one error type (`AppError`).
//!
//! Nothing here depends on leptos or sqlx: the crate boundary keeps it so.

/// Implements the read-only conversions shared by the validated text newtypes:
/// `as_str`, `AsRef<str>`, `Display`, `From<T> for String` (serde's `into`) and
/// `TryFrom<String>` (serde's `try_from`, which calls `parse`).
macro_rules! validated_text {
    ($name:ident) => {
        impl $name {
            /// The validated text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = super::FieldError;

            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(&value)
            }
        }
    };
}

mod access_names;
mod application;
mod email;
pub mod error;
mod initials;
mod names;
mod organisation;
mod password;
mod permissions;
mod person;
#[cfg(test)]
mod properties;
mod username;
pub mod wire;

pub use access_names::{AccessDescription, ProfileName, RoleName, TokenName};
pub use application::{
    ApplicationForm, ApplicationName, ApplicationSettings, ApplicationUri, Audience, ClientKind,
    SigningAlgorithm,
};
pub use email::Email;
pub use error::AppError;
pub use initials::Initials;
pub use names::{FirstName, LastName};
pub use organisation::{LinkLifetimes, OrganisationName};
pub use password::{Password, PasswordContext, password_rules_hint};
pub use permissions::Permission;
pub use person::{Defaults, Person, PersonForm};
pub use username::{Login, Username};

/// A validation failure of one form field, shown beside that field.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct FieldError {
    /// The form input's name, e.g. `"username"`.
    pub field: String,
    /// A sentence for the person filling in the form.
    pub message: String,
}

/// Keeps a field's error for the form's list, and the value if it parsed,
/// so a form reports every bad field at once.
pub fn collect<T>(errors: &mut Vec<FieldError>, result: Result<T, FieldError>) -> Option<T> {
    result.map_err(|e| errors.push(e)).ok()
}

impl FieldError {
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

/// NFC-normalises `text`. In the browser this is the engine's own
/// `String.prototype.normalize`, which spares the bundle Rust's composition
/// tables; the server, which decides, uses `unicode-normalization`.
pub fn nfc(text: &str) -> String {
    normalize(text, "NFC")
}

#[cfg(not(target_arch = "wasm32"))]
fn normalize(text: &str, form: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    match form {
        "NFKD" => text.nfkd().collect(),
        _ => text.nfc().collect(),
    }
}

#[cfg(target_arch = "wasm32")]
fn normalize(text: &str, form: &str) -> String {
    js_sys::JsString::from(text).normalize(form).into()
}

/// `text` in lower case, character by character. In the browser this is the
/// engine's own `toLowerCase` (the same Unicode mappings; it also writes a
/// final sigma as ς), which spares the bundle Rust's case tables.
pub(crate) fn lowercase(text: &str) -> String {
    #[cfg(target_arch = "wasm32")]
    return js_sys::JsString::from(text).to_lower_case().into();
    #[cfg(not(target_arch = "wasm32"))]
    text.chars().flat_map(char::to_lowercase).collect()
}

/// `text` in upper case; in the browser the engine's own `toUpperCase`
/// (see [`lowercase`]).
pub(crate) fn uppercase(text: &str) -> String {
    #[cfg(target_arch = "wasm32")]
    return js_sys::JsString::from(text).to_upper_case().into();
    #[cfg(not(target_arch = "wasm32"))]
    text.to_uppercase()
}

/// Trims `text` and replaces every inner run of whitespace (any Unicode white space,
/// including tabs and line breaks) with one ordinary space.
fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn char_count(text: &str) -> usize {
    text.chars().count()
}

/// The form of a name, username or email that search compares: lower-cased,
/// accents and apostrophes removed ("Siân O’Brien" → "sian obrien"), so
/// people find what they type, whichever apostrophe they type.
pub fn search_key(text: &str) -> String {
    fold_to_ascii(text).replace(['\'', '’'], "")
}

/// Lower-cases `text` and folds Latin letters to ASCII: compatibility decomposition
/// (NFKD) with the combining marks dropped (é→e, ŵ→w, ñ→n, å→a, ﬁ→fi), then a small
/// table for the letters that do not decompose (ß→ss, æ→ae, ø→o, ł→l, đ→d, þ→th,
/// œ→oe…). Other characters (digits, punctuation, other scripts) are kept as they are.
fn fold_to_ascii(text: &str) -> String {
    let mut folded = String::with_capacity(text.len());
    let lowered = lowercase(&normalize(text, "NFKD"));
    let letters = lowered
        .chars()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c));
    for c in letters {
        match c {
            'ß' => folded.push_str("ss"),
            'æ' => folded.push_str("ae"),
            'œ' => folded.push_str("oe"),
            'þ' => folded.push_str("th"),
            'ø' => folded.push('o'),
            'ł' => folded.push('l'),
            'đ' | 'ð' => folded.push('d'),
            'ħ' => folded.push('h'),
            'ı' => folded.push('i'),
            'ŋ' => folded.push('n'),
            'ŧ' => folded.push('t'),
            'ĸ' => folded.push('k'),
            other => folded.push(other),
        }
    }
    folded
}

/// Characters no typed name or identifier should hold: controls (NUL, escape, line
/// breaks…), invisible format characters (zero-width joiner, soft hyphen, the
/// bidirectional overrides such as U+202E…), private-use characters and
/// noncharacters.
fn is_control_or_invisible(c: char) -> bool {
    c.is_control() || is_format(c) || is_private_use(c) || is_noncharacter(c)
}

/// Unicode general category Cf (format), as of Unicode 16.
fn is_format(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{0600}'..='\u{0605}'
            | '\u{061C}'
            | '\u{06DD}'
            | '\u{070F}'
            | '\u{0890}'..='\u{0891}'
            | '\u{08E2}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{110BD}'
            | '\u{110CD}'
            | '\u{13430}'..='\u{1343F}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0001}'
            | '\u{E0020}'..='\u{E007F}'
    )
}

fn is_private_use(c: char) -> bool {
    matches!(
        c,
        '\u{E000}'..='\u{F8FF}' | '\u{F0000}'..='\u{FFFFD}' | '\u{100000}'..='\u{10FFFD}'
    )
}

fn is_noncharacter(c: char) -> bool {
    matches!(c, '\u{FDD0}'..='\u{FDEF}') || (c as u32) & 0xFFFE == 0xFFFE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_error_displays_its_message() {
        let error = FieldError::new("email", "Enter an email address");
        assert_eq!(error.to_string(), "Enter an email address");
        assert_eq!(error.field, "email");
    }

    #[test]
    fn a_field_error_survives_a_json_round_trip() {
        let error = FieldError::new("username", "Enter a username");
        let json = serde_json::to_string(&error).expect("serialises");
        let back: FieldError = serde_json::from_str(&json).expect("deserialises");
        assert_eq!(back, error);
    }

    #[test]
    fn search_keys_drop_accents_case_and_apostrophes() {
        assert_eq!(search_key("Siân O’Brien"), "sian obrien");
        assert_eq!(search_key("O'Brien"), "obrien");
        assert_eq!(search_key("Jean-Luc"), "jean-luc");
    }

    #[test]
    fn whitespace_runs_collapse_to_one_space_and_ends_are_trimmed() {
        let cases = [
            ("  Mary   Ann  ", "Mary Ann"),
            ("Mary\tAnn", "Mary Ann"),
            ("Mary\u{00A0}\u{2003}Ann", "Mary Ann"),
            ("\n\r ", ""),
        ];
        for (input, expected) in cases {
            assert_eq!(collapse_whitespace(input), expected, "{input:?}");
        }
    }

    #[test]
    fn latin_letters_fold_to_lower_case_ascii() {
        let cases = [
            ("Siân", "sian"),
            ("ZOË", "zoe"),
            ("Ståle", "stale"),
            ("Ŵyn", "wyn"),
            ("Muñoz", "munoz"),
            ("Weiß", "weiss"),
            ("Ærø", "aero"),
            ("Łódź", "lodz"),
            ("Đặng", "dang"),
            ("Þóra", "thora"),
            ("Œuvre", "oeuvre"),
            ("İsmail", "ismail"),
            ("ﬁona", "fiona"),
            ("Nguye\u{0302}\u{0303}n", "nguyen"),
            ("O’Brien 山田", "o’brien 山田"),
        ];
        for (input, expected) in cases {
            assert_eq!(fold_to_ascii(input), expected, "{input:?}");
        }
    }

    #[test]
    fn controls_and_invisible_characters_are_recognised() {
        for c in [
            '\0',
            '\u{1B}',
            '\u{7F}',
            '\u{200B}',
            '\u{200D}',
            '\u{202E}',
            '\u{2066}',
            '\u{FEFF}',
            '\u{00AD}',
            '\u{E000}',
            '\u{FFFF}',
            '\u{E0041}',
        ] {
            assert!(is_control_or_invisible(c), "{c:?} should be refused");
        }
        for c in ['a', 'é', '山', ' ', '\'', '’', '-', '😀'] {
            assert!(!is_control_or_invisible(c), "{c:?} should be allowed");
        }
    }
}
