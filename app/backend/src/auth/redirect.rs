//! Where a person goes after signing in: the `next` they were on their way
//! to, only when it is a path on Gatehouse's own origin. Anything else goes
//! home, so a link crafted elsewhere (`/sign-in?next=//evil.example`) cannot
//! send someone who has just signed in to a look-alike page.

use percent_encoding::percent_decode_str;
use url::{Position, Url};

/// Longer than any address Gatehouse makes, an application's authorization
/// request included (re-encoded, with a long `state`).
const MAX_NEXT_BYTES: usize = 16 * 1024;

/// `next` as a path (with its query and fragment) on `public_url`'s
/// origin, or `/`.
pub fn local_next(public_url: &Url, next: Option<&str>) -> String {
    next.and_then(|next| local_path(public_url, next))
        .unwrap_or_else(|| "/".to_owned())
}

fn local_path(public_url: &Url, next: &str) -> Option<String> {
    if next.len() > MAX_NEXT_BYTES || !looks_local(next) {
        return None;
    }
    // Browsers drop tabs and line breaks and read `\` as `/`, so `/\t/x`
    // and `/\x` mean `//x`: another host. Decoded, `/%2F%2Fx` and `/%5Cx`
    // say the same to anything that decodes once more.
    let decoded = percent_decode_str(next).decode_utf8().ok()?;
    if !looks_local(&decoded) {
        return None;
    }
    let resolved = public_url.join(next).ok()?;
    if resolved.origin() != public_url.origin() {
        return None;
    }
    // Resolving dot segments can make a second slash lead: `/.//x` is
    // `//x`, another host again (found by the property test below).
    let path = &resolved[Position::BeforePath..];
    looks_local(path).then(|| path.to_owned())
}

/// Where the form post that completed a sign-in sends the browser: `next`
/// itself, or, when `next` continues an application's sign-in
/// (`/oauth/authorize`), Gatehouse's page that continues it with a fresh
/// navigation. Browsers hold a redirect chain that starts at a form post to
/// the page's `form-action 'self'`, and the application is on another origin.
pub fn after_sign_in_post(next: &str) -> String {
    if next.starts_with(crate::oidc::paths::AUTHORIZE) {
        let to: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
        format!("{}?to={to}", crate::oidc::paths::CONTINUE)
    } else {
        next.to_owned()
    }
}

/// One leading `/`, then neither a second `/` nor a `\`, and no control
/// characters or white space anywhere.
fn looks_local(path: &str) -> bool {
    path.starts_with('/')
        && !path[1..].starts_with(['/', '\\'])
        && !path
            .chars()
            .any(|c| c == '\\' || c.is_control() || c.is_whitespace())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn public_url() -> Url {
        Url::parse("https://accounts.riverside.example/").expect("url")
    }

    #[test]
    fn local_paths_are_followed_with_their_query_and_fragment() {
        for (next, expected) in [
            ("/profile", "/profile"),
            ("/users?q=ab&state=active", "/users?q=ab&state=active"),
            ("/users/12#history", "/users/12#history"),
            ("/roles/../profile", "/profile"),
            ("/users?q=Si%C3%A2n", "/users?q=Si%C3%A2n"),
        ] {
            assert_eq!(local_next(&public_url(), Some(next)), expected, "{next}");
        }
        assert_eq!(local_next(&public_url(), None), "/");
    }

    #[test]
    fn anything_that_could_leave_the_origin_goes_home() {
        let long = format!("/{}", "a".repeat(MAX_NEXT_BYTES));
        for hostile in [
            "//evil.example",
            "///evil.example",
            "https://evil.example",
            "http://accounts.riverside.example/profile",
            "/\\evil.example",
            "\\\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r\n/evil.example",
            "/%2F/evil.example",
            "/.//evil.example",
            "/a/..//evil.example",
            "/%2f%2fevil.example",
            "/%5Cevil.example",
            "/%09/evil.example",
            "/%0a/evil.example",
            "%2F%2Fevil.example",
            "/ /evil.example",
            "javascript:alert(1)",
            "profile",
            " /profile",
            "",
            "/%ff",
            &long,
        ] {
            assert_eq!(local_next(&public_url(), Some(hostile)), "/", "{hostile:?}");
        }
    }

    // 256 cases each by default; `PROPTEST_CASES` sets more (docs/security.md).
    mod properties {
        use super::*;

        proptest! {
            /// Whatever arrives, the answer is a path of our own origin.
            #[test]
            fn every_answer_stays_on_the_origin(next in any::<String>()) {
                let path = local_next(&public_url(), Some(&next));
                prop_assert!(path.starts_with('/') && !path.starts_with("//"), "{path}");
                let resolved = public_url().join(&path).expect("joins");
                prop_assert_eq!(resolved.origin(), public_url().origin());
            }

            #[test]
            fn paths_built_from_safe_characters_are_kept(
                segments in proptest::collection::vec("[a-z0-9_-]{1,12}", 1..5),
                query in proptest::option::of("[a-z]{1,8}=[a-z0-9]{0,8}"),
            ) {
                let mut next = format!("/{}", segments.join("/"));
                if let Some(query) = query {
                    next = format!("{next}?{query}");
                }
                prop_assert_eq!(local_next(&public_url(), Some(&next)), next);
            }
        }
    }
}
