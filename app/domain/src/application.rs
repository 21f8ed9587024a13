//! A connected application as an administrator registers it: the
//! application's name, where Gatehouse may send people back to, who may use
//! it and how long its tokens last. Parsed here once, for the form and for
//! the server that stores it.

use super::access_names::parse_name;
use super::{FieldError, collect};
use serde::{Deserialize, Serialize};
use url::{Host, Url};

/// The most addresses of one kind an application may register.
pub const MAX_URIS: usize = 10;
/// Longer than any real callback address.
const MAX_URI_CHARS: usize = 2000;

/// An application's name, such as "Staff wiki": unique in its organisation
/// whatever the case.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ApplicationName(String);

validated_text!(ApplicationName);

impl ApplicationName {
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        parse_name(input, "Application").map(Self)
    }

    pub fn folded(&self) -> String {
        self.0.to_lowercase()
    }
}

/// An address Gatehouse sends a browser or a logout notice to, compared
/// exactly as registered: absolute, `https` (plain `http` only to this
/// machine, for development), with no fragment, user name or password.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ApplicationUri(String);

impl ApplicationUri {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `field` names the form field the address was typed into.
    pub fn parse_in(input: &str, field: &str) -> Result<Self, FieldError> {
        let refuse = |message: String| Err(FieldError::new(field, message));
        let text = input.trim();
        if text.chars().count() > MAX_URI_CHARS {
            return refuse(format!(
                "Addresses must be {MAX_URI_CHARS} characters or fewer"
            ));
        }
        let Ok(url) = Url::parse(text) else {
            return refuse(format!(
                "“{text}” is not a full address: start it with https://"
            ));
        };
        let loopback = match url.host() {
            Some(Host::Ipv4(ip)) => ip.is_loopback(),
            Some(Host::Ipv6(ip)) => ip.is_loopback(),
            Some(Host::Domain(name)) => name == "localhost",
            None => false,
        };
        match url.scheme() {
            "https" if url.host().is_some() => {}
            "http" if loopback => {}
            "http" => {
                return refuse(format!(
                    "“{text}” must start with https:// (http:// is only for this machine: localhost or 127.0.0.1)"
                ));
            }
            _ => return refuse(format!("“{text}” must start with https://")),
        }
        if url.fragment().is_some() {
            return refuse(format!("“{text}” must not contain a # fragment"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return refuse(format!("“{text}” must not contain a user name or password"));
        }
        // As typed (trimmed), not as `url` rewrites it: applications send
        // the address back exactly and it is compared exactly.
        Ok(ApplicationUri(text.to_owned()))
    }

    /// One address per line, blank lines ignored, each once.
    pub fn parse_list(text: &str, field: &str) -> Result<Vec<Self>, FieldError> {
        let mut uris: Vec<ApplicationUri> = Vec::new();
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let uri = Self::parse_in(line, field)?;
            if !uris.contains(&uri) {
                uris.push(uri);
            }
        }
        if uris.len() > MAX_URIS {
            return Err(FieldError::new(
                field,
                format!("Enter at most {MAX_URIS} addresses"),
            ));
        }
        Ok(uris)
    }

    /// Stored one per line.
    pub fn join(uris: &[Self]) -> String {
        uris.iter().map(Self::as_str).collect::<Vec<_>>().join("\n")
    }

    /// Read back from storage (written by `join`, so already valid).
    pub fn split(stored: &str) -> Vec<Self> {
        stored
            .lines()
            .filter(|l| !l.is_empty())
            .map(|l| ApplicationUri(l.to_owned()))
            .collect()
    }
}

impl From<ApplicationUri> for String {
    fn from(value: ApplicationUri) -> String {
        value.0
    }
}

impl TryFrom<String> for ApplicationUri {
    type Error = FieldError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse_in(&value, "uri")
    }
}

/// How an application proves itself at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClientKind {
    /// A server-side application with a secret.
    Confidential,
    /// A single-page or mobile application that cannot keep a secret: PKCE only.
    Public,
}

/// Who may sign in to an application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Audience {
    /// Every active person of the organisation.
    Everyone,
    /// Holders of the application's chosen roles or profiles.
    Chosen,
}

/// How ID tokens for an application are signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SigningAlgorithm {
    /// RSA with SHA-256: what every OpenID Connect library accepts.
    Rs256,
    /// Ed25519.
    EdDsa,
}

/// Names stored in the database and used on the wire.
macro_rules! stored_choice {
    ($type:ident { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $type {
            pub const ALL: &'static [$type] = &[$($type::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($type::$variant => $name),+ }
            }

            pub fn from_name(name: &str) -> Option<Self> {
                match name { $($name => Some($type::$variant),)+ _ => None }
            }
        }
    };
}

stored_choice!(ClientKind { Confidential => "confidential", Public => "public" });
stored_choice!(Audience { Everyone => "everyone", Chosen => "chosen" });
stored_choice!(SigningAlgorithm { Rs256 => "RS256", EdDsa => "EdDSA" });

/// Access tokens last 1 to 60 minutes.
pub const ACCESS_TOKEN_MINUTES: std::ops::RangeInclusive<i64> = 1..=60;
/// Refresh tokens last 1 hour to 90 days (each use gives a new one).
pub const REFRESH_TOKEN_HOURS: std::ops::RangeInclusive<i64> = 1..=90 * 24;

/// The registration form as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationForm {
    pub name: String,
    /// `confidential` or `public`.
    pub client_kind: String,
    pub redirect_uris: String,
    pub post_logout_redirect_uris: String,
    pub backchannel_logout_uri: String,
    /// `everyone` or `chosen`.
    pub audience: String,
    pub role_ids: Vec<i64>,
    pub profile_ids: Vec<i64>,
    pub requires_two_factor: bool,
    /// `RS256` or `EdDSA`.
    pub id_token_algorithm: String,
    pub access_token_minutes: String,
    pub refresh_token_hours: String,
}

/// A registration, every field valid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationSettings {
    pub name: ApplicationName,
    pub client_kind: ClientKind,
    pub redirect_uris: Vec<ApplicationUri>,
    pub post_logout_redirect_uris: Vec<ApplicationUri>,
    pub backchannel_logout_uri: Option<ApplicationUri>,
    pub audience: Audience,
    pub role_ids: Vec<i64>,
    pub profile_ids: Vec<i64>,
    pub requires_two_factor: bool,
    pub id_token_algorithm: SigningAlgorithm,
    pub access_token_seconds: i64,
    pub refresh_token_seconds: i64,
}

impl ApplicationForm {
    /// Parses every field; fails with each field's error at once.
    pub fn parse(&self) -> Result<ApplicationSettings, Vec<FieldError>> {
        let mut errors = Vec::new();
        let name = collect(&mut errors, ApplicationName::parse(&self.name));
        let client_kind = collect(
            &mut errors,
            choice(&self.client_kind, "client_kind", ClientKind::from_name),
        );
        let redirect_uris = collect(
            &mut errors,
            ApplicationUri::parse_list(&self.redirect_uris, "redirect_uris").and_then(|uris| {
                if uris.is_empty() {
                    Err(FieldError::new(
                        "redirect_uris",
                        "Enter the address Gatehouse sends people back to after they sign in",
                    ))
                } else {
                    Ok(uris)
                }
            }),
        );
        let post_logout_redirect_uris = collect(
            &mut errors,
            ApplicationUri::parse_list(
                &self.post_logout_redirect_uris,
                "post_logout_redirect_uris",
            ),
        );
        let backchannel = self.backchannel_logout_uri.trim();
        let backchannel_logout_uri = collect(
            &mut errors,
            if backchannel.is_empty() {
                Ok(None)
            } else {
                ApplicationUri::parse_in(backchannel, "backchannel_logout_uri").map(Some)
            },
        );
        let audience = collect(
            &mut errors,
            choice(&self.audience, "audience", Audience::from_name),
        );
        if audience == Some(Audience::Chosen)
            && self.role_ids.is_empty()
            && self.profile_ids.is_empty()
        {
            errors.push(FieldError::new(
                "audience",
                "Choose at least one role or profile, or let everyone in the organisation use it",
            ));
        }
        let id_token_algorithm = collect(
            &mut errors,
            choice(
                &self.id_token_algorithm,
                "id_token_algorithm",
                SigningAlgorithm::from_name,
            ),
        );
        let access_minutes = collect(
            &mut errors,
            whole_number(
                &self.access_token_minutes,
                "access_token_minutes",
                ACCESS_TOKEN_MINUTES,
                "minutes",
            ),
        );
        let refresh_hours = collect(
            &mut errors,
            whole_number(
                &self.refresh_token_hours,
                "refresh_token_hours",
                REFRESH_TOKEN_HOURS,
                "hours",
            ),
        );
        match (
            name,
            client_kind,
            redirect_uris,
            post_logout_redirect_uris,
            backchannel_logout_uri,
            audience,
            id_token_algorithm,
            access_minutes,
            refresh_hours,
        ) {
            (
                Some(name),
                Some(client_kind),
                Some(redirect_uris),
                Some(post_logout_redirect_uris),
                Some(backchannel_logout_uri),
                Some(audience),
                Some(id_token_algorithm),
                Some(access_minutes),
                Some(refresh_hours),
            ) if errors.is_empty() => {
                let chosen = audience == Audience::Chosen;
                Ok(ApplicationSettings {
                    name,
                    client_kind,
                    redirect_uris,
                    post_logout_redirect_uris,
                    backchannel_logout_uri,
                    audience,
                    role_ids: if chosen {
                        sorted(&self.role_ids)
                    } else {
                        vec![]
                    },
                    profile_ids: if chosen {
                        sorted(&self.profile_ids)
                    } else {
                        vec![]
                    },
                    requires_two_factor: self.requires_two_factor,
                    id_token_algorithm,
                    access_token_seconds: access_minutes * 60,
                    refresh_token_seconds: refresh_hours * 3600,
                })
            }
            _ => Err(errors),
        }
    }
}

fn sorted(ids: &[i64]) -> Vec<i64> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    ids
}

fn choice<T>(
    input: &str,
    field: &str,
    from_name: impl Fn(&str) -> Option<T>,
) -> Result<T, FieldError> {
    from_name(input.trim()).ok_or_else(|| FieldError::new(field, "Choose one of the options"))
}

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

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> ApplicationForm {
        ApplicationForm {
            name: "  Staff   wiki ".into(),
            client_kind: "confidential".into(),
            redirect_uris: "https://wiki.riverside.example/callback\n\n  http://127.0.0.1:8080/cb  \nhttps://wiki.riverside.example/callback".into(),
            post_logout_redirect_uris: String::new(),
            backchannel_logout_uri: "https://wiki.riverside.example/logout".into(),
            audience: "everyone".into(),
            role_ids: vec![3],
            profile_ids: vec![],
            requires_two_factor: true,
            id_token_algorithm: "EdDSA".into(),
            access_token_minutes: "10".into(),
            refresh_token_hours: "24".into(),
        }
    }

    #[test]
    fn a_valid_form_parses_with_exact_addresses_once_each() {
        let settings = form().parse().expect("valid");
        assert_eq!(settings.name.as_str(), "Staff wiki");
        assert_eq!(
            ApplicationUri::join(&settings.redirect_uris),
            "https://wiki.riverside.example/callback\nhttp://127.0.0.1:8080/cb"
        );
        assert_eq!(settings.id_token_algorithm, SigningAlgorithm::EdDsa);
        assert_eq!(settings.access_token_seconds, 600);
        assert_eq!(settings.refresh_token_seconds, 86_400);
        assert!(settings.role_ids.is_empty(), "everyone: roles are not kept");
        assert_eq!(
            ApplicationUri::split(&ApplicationUri::join(&settings.redirect_uris)),
            settings.redirect_uris
        );
    }

    #[test]
    fn addresses_that_could_leak_a_code_are_refused() {
        for bad in [
            "http://wiki.riverside.example/callback",
            "wiki.riverside.example/callback",
            "/callback",
            "javascript:alert(1)",
            "https://wiki.riverside.example/cb#fragment",
            "https://user:pw@wiki.riverside.example/cb",
            "ftp://wiki.riverside.example/cb",
            "http://10.0.0.1/cb",
        ] {
            let error = ApplicationUri::parse_in(bad, "redirect_uris").expect_err(bad);
            assert_eq!(error.field, "redirect_uris", "{bad}");
        }
        for good in [
            "https://wiki.riverside.example/cb?tenant=1",
            "http://localhost:3000/cb",
            "http://[::1]:3000/cb",
        ] {
            ApplicationUri::parse_in(good, "redirect_uris").expect(good);
        }
    }

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let bad = ApplicationForm {
            name: "x".into(),
            client_kind: "secretive".into(),
            redirect_uris: " ".into(),
            audience: "chosen".into(),
            role_ids: vec![],
            id_token_algorithm: "HS256".into(),
            access_token_minutes: "61".into(),
            refresh_token_hours: "ten".into(),
            ..form()
        };
        let fields: Vec<String> = bad
            .parse()
            .expect_err("invalid")
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            [
                "name",
                "client_kind",
                "redirect_uris",
                "audience",
                "id_token_algorithm",
                "access_token_minutes",
                "refresh_token_hours"
            ]
        );
    }

    #[test]
    fn at_most_ten_addresses() {
        let many: Vec<String> = (0..11)
            .map(|i| format!("https://app.example/cb{i}"))
            .collect();
        let error = ApplicationUri::parse_list(&many.join("\n"), "redirect_uris").expect_err("11");
        assert!(error.message.contains("at most 10"));
    }

    #[test]
    fn stored_names_round_trip() {
        for kind in ClientKind::ALL {
            assert_eq!(ClientKind::from_name(kind.as_str()), Some(*kind));
        }
        for audience in Audience::ALL {
            assert_eq!(Audience::from_name(audience.as_str()), Some(*audience));
        }
        for algorithm in SigningAlgorithm::ALL {
            assert_eq!(
                SigningAlgorithm::from_name(algorithm.as_str()),
                Some(*algorithm)
            );
        }
    }
}
