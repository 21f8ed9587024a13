//! Names and descriptions of roles and profiles, and names of API tokens,
//! as administrators type them.

use super::{FieldError, char_count, collapse_whitespace, is_control_or_invisible, nfc};

const NAME_MIN_CHARS: usize = 2;
const NAME_MAX_CHARS: usize = 60;
const DESCRIPTION_MAX_CHARS: usize = 200;

/// The form field both names are typed into.
const NAME_FIELD: &str = "name";

/// Trimmed, inner whitespace collapsed, NFC-normalised, 2–60 characters, no
/// control or invisible characters. `what` is "Role" or "Profile".
pub(crate) fn parse_name(input: &str, what: &str) -> Result<String, FieldError> {
    let refuse = |message: String| Err(FieldError::new(NAME_FIELD, message));
    let value = nfc(&collapse_whitespace(input));
    if value.is_empty() {
        return refuse(format!("Enter a {} name", what.to_lowercase()));
    }
    if value.chars().any(is_control_or_invisible) {
        return refuse(format!(
            "{what} name must not contain control or invisible characters"
        ));
    }
    let length = char_count(&value);
    if length < NAME_MIN_CHARS {
        return refuse(format!(
            "{what} name must be at least {NAME_MIN_CHARS} characters"
        ));
    }
    if length > NAME_MAX_CHARS {
        return refuse(format!(
            "{what} name must be {NAME_MAX_CHARS} characters or fewer"
        ));
    }
    Ok(value)
}

/// A role's name, such as "Teacher": unique in its organisation whatever the
/// case (`folded` is the form compared).
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RoleName(String);

validated_text!(RoleName);

impl RoleName {
    pub const FIELD: &'static str = NAME_FIELD;

    pub fn parse(input: &str) -> Result<Self, FieldError> {
        parse_name(input, "Role").map(Self)
    }

    /// The name as compared for uniqueness: "teacher" for "Teacher".
    pub fn folded(&self) -> String {
        self.0.to_lowercase()
    }
}

/// An API token's name, such as "Nightly HR import": what it is for, unique
/// among the API user's live tokens whatever the case.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TokenName(String);

validated_text!(TokenName);

impl TokenName {
    pub const FIELD: &'static str = NAME_FIELD;

    pub fn parse(input: &str) -> Result<Self, FieldError> {
        parse_name(input, "Token").map(Self)
    }

    /// The name as compared for uniqueness.
    pub fn folded(&self) -> String {
        self.0.to_lowercase()
    }
}

/// A profile's name, such as "Office administrator"; the same rules as a
/// role's, unique among the organisation's profiles whatever the case.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ProfileName(String);

validated_text!(ProfileName);

impl ProfileName {
    pub const FIELD: &'static str = NAME_FIELD;

    pub fn parse(input: &str) -> Result<Self, FieldError> {
        parse_name(input, "Profile").map(Self)
    }

    /// The name as compared for uniqueness.
    pub fn folded(&self) -> String {
        self.0.to_lowercase()
    }
}

/// What a role or profile is for, in a line: optional, up to 200 characters,
/// whitespace collapsed, no control or invisible characters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AccessDescription(String);

validated_text!(AccessDescription);

impl AccessDescription {
    pub const FIELD: &'static str = "description";

    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let refuse = |message: &str| Err(FieldError::new(Self::FIELD, message));
        let value = nfc(&collapse_whitespace(input));
        if value.chars().any(is_control_or_invisible) {
            return refuse("Description must not contain control or invisible characters");
        }
        if char_count(&value) > DESCRIPTION_MAX_CHARS {
            return refuse("Description must be 200 characters or fewer");
        }
        Ok(Self(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(result: Result<impl std::fmt::Debug, FieldError>) -> String {
        let error = result.expect_err("should be refused");
        assert_eq!(error.field, "name");
        error.message
    }

    #[test]
    fn a_role_name_is_trimmed_and_its_inner_spaces_collapsed() {
        let name = RoleName::parse("  Head of\t year  ").expect("valid");
        assert_eq!(name.as_str(), "Head of year");
    }

    #[test]
    fn names_in_any_script_with_punctuation_are_accepted() {
        for input in [
            "Teacher",
            "IT",
            "Pennaeth Adran – Cymraeg",
            "Équipe de vie scolaire",
            "教师",
            "SENCo (KS3)",
        ] {
            assert_eq!(RoleName::parse(input).expect(input).as_str(), input);
        }
    }

    #[test]
    fn an_empty_role_name_asks_for_one() {
        assert_eq!(message(RoleName::parse("   ")), "Enter a role name");
        assert_eq!(message(ProfileName::parse("")), "Enter a profile name");
    }

    #[test]
    fn a_token_name_follows_the_same_rules_and_says_token() {
        assert_eq!(
            TokenName::parse("  Nightly   HR import ").map(String::from),
            Ok("Nightly HR import".to_owned())
        );
        assert_eq!(message(TokenName::parse("")), "Enter a token name");
        assert_eq!(
            message(TokenName::parse("x")),
            "Token name must be at least 2 characters"
        );
        assert_eq!(TokenName::FIELD, "name");
    }

    #[test]
    fn a_one_character_name_is_too_short() {
        assert_eq!(
            message(RoleName::parse(" A ")),
            "Role name must be at least 2 characters"
        );
    }

    #[test]
    fn sixty_characters_are_allowed_and_sixty_one_are_not() {
        let sixty = "é".repeat(60);
        assert_eq!(RoleName::parse(&sixty).expect("60").as_str(), sixty);
        assert_eq!(
            message(ProfileName::parse(&"é".repeat(61))),
            "Profile name must be 60 characters or fewer"
        );
    }

    #[test]
    fn control_and_invisible_characters_are_refused() {
        for input in [
            "Tea\u{0}cher",
            "Teacher\u{202E}",
            "Tea\u{200B}cher",
            "Tea\u{1B}cher",
        ] {
            assert_eq!(
                message(RoleName::parse(input)),
                "Role name must not contain control or invisible characters",
                "{input:?}"
            );
        }
    }

    #[test]
    fn names_are_nfc_normalised_so_equal_looking_names_compare_equal() {
        let composed = RoleName::parse("Pennaeth Ŵyl").expect("valid");
        let decomposed = RoleName::parse("Pennaeth W\u{0302}yl").expect("valid");
        assert_eq!(composed, decomposed);
    }

    #[test]
    fn folded_names_ignore_case_beyond_ascii() {
        assert_eq!(
            RoleName::parse("ÉQUIPE").expect("valid").folded(),
            RoleName::parse("équipe").expect("valid").folded()
        );
        assert_eq!(
            ProfileName::parse("Teaching Staff")
                .expect("valid")
                .folded(),
            "teaching staff"
        );
    }

    #[test]
    fn a_description_is_optional_and_at_most_200_characters() {
        assert_eq!(AccessDescription::parse("  ").expect("empty").as_str(), "");
        assert!(AccessDescription::parse(&"x".repeat(200)).is_ok());
        let error = AccessDescription::parse(&"x".repeat(201)).expect_err("too long");
        assert_eq!(error.field, "description");
        assert_eq!(error.message, "Description must be 200 characters or fewer");
    }

    #[test]
    fn a_description_refuses_control_characters() {
        let error = AccessDescription::parse("Works\u{7}with pupils").expect_err("bell");
        assert_eq!(error.field, "description");
    }

    #[test]
    fn names_deserialise_only_when_valid() {
        let name: RoleName = serde_json::from_str("\" Teacher \"").expect("valid");
        assert_eq!(name.as_str(), "Teacher");
        assert!(serde_json::from_str::<ProfileName>("\"x\"").is_err());
    }
}
