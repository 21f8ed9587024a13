//! Email addresses.

use super::{FieldError, char_count, nfc};

const MAX_CHARS: usize = 254;
const MAX_LOCAL_CHARS: usize = 64;
const MAX_LABEL_CHARS: usize = 63;
const FORMAT_MESSAGE: &str = "Enter an email address in the correct format, like name@example.com";

/// An email address: trimmed, NFC-normalised, at most 254 characters; one `@`; a local
/// part of at most 64 characters in the dot-atom form (letters of any script, digits
/// and ``! # $ % & ' * + - / = ? ^ _ ` { | } ~``, dots between them); a domain of at
/// least two dot-separated labels of letters, digits and inner hyphens, the last
/// containing a letter. No spaces, controls or quoted local parts.
///
/// Stored as typed; compare with [`Email::normalized`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

validated_text!(Email);

impl Email {
    pub const FIELD: &'static str = "email";
    pub const MAX_CHARS: usize = MAX_CHARS;

    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let refuse = |message: &str| Err(FieldError::new(Self::FIELD, message));
        let value = nfc(input.trim());
        if value.is_empty() {
            return refuse("Enter an email address");
        }
        if char_count(&value) > MAX_CHARS {
            return refuse("Email address must be 254 characters or fewer");
        }
        let Some((local, domain)) = value.split_once('@') else {
            return refuse(FORMAT_MESSAGE);
        };
        if !is_local_part(local) || !is_domain(domain) {
            return refuse(FORMAT_MESSAGE);
        }
        if char_count(local) > MAX_LOCAL_CHARS {
            return refuse("The part before the @ must be 64 characters or fewer");
        }
        Ok(Self(value))
    }

    /// The lower-cased address, used to compare addresses for uniqueness.
    pub fn normalized(&self) -> String {
        self.0.to_lowercase()
    }

    /// The part before the `@`.
    pub fn local_part(&self) -> &str {
        self.0.split_once('@').map_or("", |(local, _)| local)
    }

    /// The part after the `@`.
    pub fn domain(&self) -> &str {
        self.0.split_once('@').map_or("", |(_, domain)| domain)
    }
}

/// RFC 5322 dot-atom, with letters and digits of any script (RFC 6531).
fn is_local_part(local: &str) -> bool {
    local.split('.').all(|atom| {
        !atom.is_empty()
            && atom
                .chars()
                .all(|c| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c))
    })
}

/// Two or more labels of letters, digits and hyphens (not at either end of a label);
/// the top-level label holds a letter, so a bare IP address is refused.
fn is_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    let is_label = |label: &&str| {
        !label.is_empty()
            && char_count(label) <= MAX_LABEL_CHARS
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_alphanumeric() || c == '-')
    };
    labels.len() >= 2
        && labels.iter().all(is_label)
        && labels
            .last()
            .is_some_and(|top| top.chars().any(char::is_alphabetic))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(input: &str) -> String {
        Email::parse(input).expect_err(input).message
    }

    #[test]
    fn ordinary_addresses_are_accepted_as_typed() {
        let addresses = [
            "name@example.com",
            "first.last@example.co.uk",
            "o'brien@example.ie",
            "name+tag@sub.example.org",
            "x@example.io",
            "Mixed.Case@Example.COM",
            "siân@exämple.cymru",
            "user_1@my-domain.example",
            "ivan@пример.рф",
        ];
        for address in addresses {
            assert_eq!(Email::parse(address).expect(address).as_str(), address);
        }
    }

    #[test]
    fn an_address_is_trimmed() {
        let email = Email::parse("  name@example.com \n").expect("surrounding space");
        assert_eq!(email.as_str(), "name@example.com");
    }

    #[test]
    fn the_normalized_form_is_lower_case() {
        let email = Email::parse("Siân.Jones@Example.COM").expect("valid");
        assert_eq!(email.normalized(), "siân.jones@example.com");
        assert_eq!(email.as_str(), "Siân.Jones@Example.COM");
    }

    #[test]
    fn the_local_part_and_domain_are_available() {
        let email = Email::parse("jean.picard@example.com").expect("valid");
        assert_eq!(email.local_part(), "jean.picard");
        assert_eq!(email.domain(), "example.com");
    }

    #[test]
    fn a_missing_address_is_rejected_with_a_prompt() {
        for input in ["", "   ", "\t"] {
            let error = Email::parse(input).expect_err(input);
            assert_eq!(error, FieldError::new("email", "Enter an email address"));
        }
    }

    #[test]
    fn malformed_addresses_are_rejected_with_the_format_message() {
        let inputs = [
            "name",
            "name@",
            "@example.com",
            "name@@example.com",
            "a@b@example.com",
            "name@example",
            "name@.example.com",
            "name@example.com.",
            "name@example..com",
            "name@-example.com",
            "name@example-.com",
            "name@exa_mple.com",
            "name@127.0.0.1",
            "name@[127.0.0.1]",
            ".name@example.com",
            "name.@example.com",
            "na..me@example.com",
            "na me@example.com",
            "name@exa mple.com",
            "\"quoted\"@example.com",
            "name(comment)@example.com",
            "name@example.com\0",
            "na\0me@example.com",
            "name\u{202E}@example.com",
            "na\u{200D}me@example.com",
            "name@exa\u{200B}mple.com",
            "😀@example.com",
            "name@😀.com",
            "<script>alert(1)</script>",
            "<script>@example.com",
            "name@example.com<script>",
            "robert');DROP TABLE users;--@example.com",
            "x' OR '1'='1",
        ];
        for input in inputs {
            let error = Email::parse(input).expect_err(input);
            assert_eq!(error.field, "email");
            assert_eq!(error.message, FORMAT_MESSAGE, "{input:?}");
        }
    }

    #[test]
    fn a_local_part_of_64_characters_is_accepted_and_65_is_rejected() {
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(64))).is_ok());
        assert_eq!(
            message(&format!("{}@example.com", "a".repeat(65))),
            "The part before the @ must be 64 characters or fewer"
        );
    }

    #[test]
    fn a_domain_label_of_64_characters_is_rejected() {
        assert!(Email::parse(&format!("a@{}.com", "b".repeat(63))).is_ok());
        assert_eq!(
            message(&format!("a@{}.com", "b".repeat(64))),
            FORMAT_MESSAGE
        );
    }

    #[test]
    fn an_address_of_254_characters_is_accepted_and_255_is_rejected() {
        let domain_254 = format!(
            "{}.{}.{}.{}.com",
            "b".repeat(60),
            "c".repeat(60),
            "d".repeat(60),
            "e".repeat(5)
        );
        let at_254 = format!("{}@{domain_254}", "a".repeat(254 - 1 - domain_254.len()));
        assert_eq!(at_254.len(), 254);
        assert!(Email::parse(&at_254).is_ok());
        let at_255 = format!("a{at_254}");
        assert_eq!(
            message(&at_255),
            "Email address must be 254 characters or fewer"
        );
    }

    #[test]
    fn ten_thousand_characters_are_rejected_as_too_long() {
        let input = format!("{}@example.com", "a".repeat(10_000));
        assert_eq!(
            message(&input),
            "Email address must be 254 characters or fewer"
        );
    }

    #[test]
    fn deserialising_validates() {
        let email: Email = serde_json::from_str("\"name@example.com\"").expect("valid");
        assert_eq!(email.as_str(), "name@example.com");
        assert_eq!(
            serde_json::to_string(&email).expect("serialises"),
            "\"name@example.com\""
        );
        assert!(serde_json::from_str::<Email>("\"name@example\"").is_err());
    }
}
