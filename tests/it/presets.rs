//! The presets for Tastytrade's own SDKs, pinned as `export` prints them: every name, in
//! order, with the values that vary (token, expiry, port, secrets) normalised.

use crate::common::*;

/// `export --long-lived --preset PRESET`, with the varying values replaced by their names.
fn exported(dir: &Dir, s: &tt_standin::StandIn, refresh: &str, preset: &str) -> String {
    let run = dir.run_at(
        s,
        &[
            "export",
            "--passphrase-file",
            "pw",
            "--long-lived",
            "--preset",
            preset,
        ],
    );
    // The long-lived secrets are the point here, so not `success()` (which refuses them).
    assert_eq!(run.status, Some(0), "{}", run.stderr);
    let mut text = run.stdout.clone();
    for (value, name) in [
        (refresh.to_string(), "[REFRESH]"),
        (CLIENT_SECRET.to_string(), "[SECRET]"),
        (CLIENT_ID.to_string(), "[CLIENT-ID]"),
        (s.base_url(), "[API]"),
    ] {
        text = text.replace(&value, name);
    }
    text.lines()
        .map(|line| match line.split_once("='") {
            Some((name, _)) if name.ends_with("ACCESS_TOKEN") => format!("{name}='[TOKEN]'"),
            Some((name, _)) if name.ends_with("EXPIRES_AT") => format!("{name}='[TIME]'"),
            _ => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_official_sdks_presets_export_their_names() {
    let s = standin();
    let dir = Dir::new();
    let refresh = dir.standin_vault(&s, "read");
    assert_eq!(
        exported(&dir, &s, &refresh, "tastytrade-python"),
        "export TT_ACCESS_TOKEN='[TOKEN]'
export TT_ACCESS_TOKEN_EXPIRES_AT='[TIME]'
export TT_API_BASE_URL='[API]'
export TT_CLIENT_ID='[CLIENT-ID]'
export TT_CLIENT_SECRET='[SECRET]'
export TT_REFRESH_TOKEN='[REFRESH]'
export API_BASE_URL='[API]'"
    );
    assert_eq!(
        exported(&dir, &s, &refresh, "tastytrade-js"),
        "export TT_ACCESS_TOKEN='[TOKEN]'
export TT_ACCESS_TOKEN_EXPIRES_AT='[TIME]'
export TT_API_BASE_URL='[API]'
export OAUTH_CLIENT_SECRET='[SECRET]'
export OAUTH_REFRESH_TOKEN='[REFRESH]'"
    );
}
