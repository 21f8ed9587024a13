//! Known browsers (OWASP's *device cookie*). After a complete sign-in the
//! browser gets a cookie naming the account and a random id, with a keyed
//! hash by which the server vouches for both. A sign-in from a browser
//! carrying a good cookie for the account is counted on that browser's own
//! allowance, not on the account's: an attacker guessing the password from
//! elsewhere spends the account's allowance and slows themselves down,
//! while its owner signs in from their usual browser as ever.

use crate::config::CheckedSettings;
use crate::crypto::tokens;
use cookie::{Cookie, SameSite};
use domain::AppError;

const PURPOSE: &str = "device-cookie";
const LIFETIME_DAYS: i64 = 365;

/// A browser the account `user_id` signed in from before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownDevice {
    pub user_id: i64,
    /// `user_id.random`, what its throttle counter is kept under.
    pub id: String,
}

pub fn cookie_name(settings: &CheckedSettings) -> &'static str {
    if settings.is_https() {
        "__Host-gatehouse_device"
    } else {
        "gatehouse_device"
    }
}

/// A `Set-Cookie` value marking this browser as known to `user_id`.
pub fn cookie_for(settings: &CheckedSettings, user_id: i64) -> Result<String, AppError> {
    let id = format!("{user_id}.{}", &tokens::generate()[..32]);
    let mac = tokens::keyed_hash(settings, PURPOSE, &id)?;
    Ok(
        Cookie::build((cookie_name(settings), format!("{id}.{mac}")))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Strict)
            .secure(settings.is_https())
            .max_age(cookie::time::Duration::days(LIFETIME_DAYS))
            .build()
            .to_string(),
    )
}

/// The known browser a `Cookie` header names, if its cookie is one the
/// server made (anything else, forged or damaged, counts as unknown).
pub fn from_cookie_header(settings: &CheckedSettings, header: &str) -> Option<KnownDevice> {
    let name = cookie_name(settings);
    let value = Cookie::split_parse(header)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)?
        .value()
        .to_owned();
    let (id, mac) = value.rsplit_once('.')?;
    let user_id = id.split_once('.')?.0.parse().ok()?;
    tokens::keyed_hash_matches(settings, PURPOSE, id, mac)
        .ok()?
        .then(|| KnownDevice {
            user_id,
            id: id.to_owned(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> CheckedSettings {
        CheckedSettings::with_random_key()
    }

    fn value_of(set_cookie: &str) -> String {
        set_cookie.split(';').next().expect("name=value").to_owned()
    }

    #[test]
    fn a_cookie_the_server_made_names_its_account_and_a_forged_one_nothing() {
        let settings = settings();
        let header = value_of(&cookie_for(&settings, 42).expect("cookie"));
        let device = from_cookie_header(&settings, &header).expect("known");
        assert_eq!(device.user_id, 42);
        assert!(device.id.starts_with("42."));
        let (id, mac) = header.rsplit_once('.').expect("mac");
        let other_account = header.replacen("=42.", "=43.", 1);
        for forged in [
            other_account.as_str(),
            id,
            &format!("{id}.{}", "0".repeat(mac.len())),
            "gatehouse_device=",
            "gatehouse_device=1.2.3",
        ] {
            assert_eq!(from_cookie_header(&settings, forged), None, "{forged}");
        }
        assert_eq!(
            from_cookie_header(&self::settings(), &header),
            None,
            "another server key"
        );
    }
}
