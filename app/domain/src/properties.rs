//! Property tests of every parser: whatever is typed, parsing never panics,
//! and what parses prints back as itself (parsing it again gives the same
//! value). 256 cases each in the test command; `PROPTEST_CASES=1000000`
//! for the long run (docs/security.md).

use super::*;
use proptest::prelude::*;

/// Any text, and text shaped like what each field expects, so both the
/// refusals and the values that parse are explored.
fn typed(plausible: &'static str) -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), plausible]
}

/// `parse(x)` never panics, and a value that parsed parses again from its
/// own text to itself.
macro_rules! round_trips {
    ($test:ident, $type:ty, $plausible:expr) => {
        proptest! {
            #[test]
            fn $test(input in typed($plausible)) {
                if let Ok(value) = <$type>::parse(&input) {
                    prop_assert_eq!(<$type>::parse(value.as_str()), Ok(value.clone()));
                }
            }
        }
    };
}

round_trips!(first_names, FirstName, "[\\p{L} '’.-]{0,40}");
round_trips!(last_names, LastName, "[\\p{L} '’.-]{0,40}");
round_trips!(
    emails,
    Email,
    "[a-zA-Z0-9._+-]{1,20}@[a-z0-9-]{1,12}\\.[a-z]{2,6}"
);
round_trips!(usernames, Username, "[a-zA-Z][a-zA-Z0-9@._-]{0,34}");
round_trips!(initials, Initials, "[\\p{L}0-9]{0,7}");
round_trips!(logins, Login, "[a-zA-Z0-9@._ -]{0,40}");
round_trips!(
    organisation_names,
    OrganisationName,
    "[\\p{L}0-9 '&.,()-]{0,60}"
);
round_trips!(role_names, RoleName, "[\\p{L}0-9 '&.,()-]{0,60}");
round_trips!(profile_names, ProfileName, "[\\p{L}0-9 '&.,()-]{0,60}");
round_trips!(token_names, TokenName, "[\\p{L}0-9 '&.,()-]{0,60}");
round_trips!(
    access_descriptions,
    AccessDescription,
    "[\\p{L}0-9 '&.,()-]{0,200}"
);

proptest! {
    #[test]
    fn passwords(input in typed("[\\p{L}0-9 !?.,-]{0,140}")) {
        if let Ok(password) = Password::parse(&input, &PasswordContext::default()) {
            let again = Password::parse(password.expose(), &PasswordContext::default());
            prop_assert_eq!(again.map(|p| p.expose().to_owned()), Ok(password.expose().to_owned()));
        }
    }

    #[test]
    fn link_lifetimes(welcome in typed("-?[0-9]{1,5}"), password in typed("-?[0-9]{1,5}")) {
        if let Ok(lifetimes) = LinkLifetimes::parse(&welcome, &password) {
            let again = LinkLifetimes::parse(
                &lifetimes.welcome_link_hours.to_string(),
                &lifetimes.password_link_minutes.to_string(),
            );
            prop_assert_eq!(again, Ok(lifetimes));
        }
    }

    /// A username made from names that parsed is always a valid username.
    #[test]
    fn usernames_made_from_names(first in "[\\p{L} '’.-]{1,40}", last in "[\\p{L} '’.-]{1,40}") {
        if let (Ok(first), Ok(last)) = (FirstName::parse(&first), LastName::parse(&last)) {
            let made = Username::from_names(&first, &last);
            prop_assert_eq!(Username::parse(made.as_str()), Ok(made.clone()));
            for alternative in Username::alternatives(&first, &last) {
                prop_assert!(Username::parse(alternative.as_str()).is_ok(), "{}", alternative);
            }
        }
    }
}
