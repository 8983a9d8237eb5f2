//! The tour (`cargo run --release --example tour`, examples/tour/) as a test: its whole
//! transcript, with what varies from run to run (folder, ports, passphrase, dates, times,
//! pids, the KDF's calibration) replaced by names, must equal tests/tour/transcript.txt.
//! After a deliberate change: `TOUR=overwrite cargo test --test it tour::`, and review the
//! diff.

use crate::common::*;

#[path = "../../examples/tour/script.rs"]
mod script;

#[test]
fn the_tour_runs_and_says_what_it_said() {
    let Some(fetch_spx) = crate::fetch_spx::fetch_spx() else {
        return;
    };
    let settings = script::Settings {
        ttvault: ttvault_bin(),
        programs: fetch_spx.parent().unwrap().to_path_buf(),
        prefer_port_8000: false,
        // The floor of the KDF, as every test: the calibration is not what is shown here.
        env: vec![
            ("TTVAULT_KDF_MEMORY_MIB".into(), "64".into()),
            ("TTVAULT_KDF_TARGET_MS".into(), "1".into()),
        ],
    };
    let mut out = Vec::new();
    let chosen = script::run(&settings, &mut out)
        .unwrap_or_else(|e| panic!("{e}\n{}", String::from_utf8_lossy(&out)));
    let text = normalise(&String::from_utf8(out).unwrap(), &chosen);
    // Nothing is left behind: the folder (with the vault and the agent's socket) is gone.
    assert!(!std::path::Path::new(&chosen.folder).exists());
    let pinned = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tour/transcript.txt");
    if std::env::var_os("TOUR").is_some_and(|v| v == "overwrite") {
        std::fs::write(&pinned, &text).unwrap();
    }
    let expected = std::fs::read_to_string(&pinned).unwrap();
    if text != expected {
        let first = text
            .lines()
            .zip(expected.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(text.lines().count().min(expected.lines().count()));
        panic!(
            "the tour's transcript differs from {} from line {}:\n{}",
            pinned.display(),
            first + 1,
            text
        );
    }
}

fn normalise(text: &str, chosen: &script::Chosen) -> String {
    let mut text = text
        .replace(&chosen.folder, "[DIR]")
        .replace(&chosen.redirect, "[REDIRECT]")
        .replace(&chosen.api, "[API]")
        .replace(&chosen.passphrase, "[PASSPHRASE]");
    for (before, after, name) in [
        ("/start/", "", "[..]"),
        ("(pid ", ")", "[PID]"),
        ("(in ", " min)", "[N]"),
        ("m=", " KiB", "[M]"),
        ("t=", "", "[T]"),
        ("", " MiB", "[M]"),
        ("", " day", "[N]"),
    ] {
        text = replace_between(&text, before, after, name);
    }
    // "1 day", "2 days": the count is gone, so is the plural.
    text = text
        .replace("[N] days", "[N] day")
        .replace("[N] day", "[N] day(s)");
    text.lines()
        .map(|line| {
            // Column widths follow the numbers just replaced.
            let indent = line.len() - line.trim_start().len();
            let words: Vec<&str> = line.split_whitespace().collect();
            let line = format!("{}{}", &line[..indent], words.join(" "));
            dates_and_times(&line)
        })
        .map(|line| line + "\n")
        .collect()
}

/// Replaces what stands between `before` and `after` with `name`, where that is a run of
/// digits (or, for `/start/`, of URL-safe base64).
fn replace_between(text: &str, before: &str, after: &str, name: &str) -> String {
    let token = |c: char| {
        if before == "/start/" {
            c.is_ascii_alphanumeric() || c == '-' || c == '_'
        } else {
            c.is_ascii_digit()
        }
    };
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(before) {
        let (head, tail) = rest.split_at(at + before.len());
        let len = tail.find(|c: char| !token(c)).unwrap_or(tail.len());
        let starts_word =
            !before.is_empty() || !head.ends_with(|c: char| c.is_ascii_alphanumeric());
        if len > 0 && tail[len..].starts_with(after) && starts_word {
            out.push_str(head);
            out.push_str(name);
            rest = &tail[len..];
        } else if before.is_empty() {
            // An empty `before` matches everywhere: step over one character.
            let step = tail.chars().next().map_or(0, char::len_utf8);
            if step == 0 {
                break;
            }
            out.push_str(head);
            out.push_str(&tail[..step]);
            rest = &tail[step..];
        } else {
            out.push_str(head);
            rest = tail;
        }
    }
    out.push_str(rest);
    out
}

/// `2026-12-06` → `[DATE]`, `04:23` and `04:23:05` → `[TIME]`.
fn dates_and_times(line: &str) -> String {
    let b = line.as_bytes();
    let shape = |at: usize, pattern: &str| {
        pattern.bytes().enumerate().all(|(i, p)| {
            b.get(at + i).is_some_and(|&c| match p {
                b'9' => c.is_ascii_digit(),
                other => c == other,
            })
        })
    };
    let mut out = String::new();
    let mut i = 0;
    while i < b.len() {
        if shape(i, "9999-99-99") {
            out.push_str("[DATE]");
            i += 10;
        } else if shape(i, "99:99:99") {
            out.push_str("[TIME]");
            i += 8;
        } else if shape(i, "99:99") {
            out.push_str("[TIME]");
            i += 5;
        } else {
            let c = line[i..].chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}
