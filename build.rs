//! Names the commit ttvault is built from, for `ttvault --version`, as `TTVAULT_COMMIT`:
//! `TTVAULT_BUILD_COMMIT` from the build's environment when set (a packager's own record; a
//! name of its own, since cargo hands `TTVAULT_COMMIT` to what `cargo run` starts), else
//! git's HEAD when this folder is a git checkout's top, else the `.cargo_vcs_info.json`
//! that `cargo package` (crates.io) writes, else "unknown commit" (a bare source tarball).

use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=TTVAULT_BUILD_COMMIT");
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dir = Path::new(&dir);
    let commit = std::env::var("TTVAULT_BUILD_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .map(|c| c.trim().to_string())
        .or_else(|| from_git(dir))
        .or_else(|| from_vcs_info(dir))
        .map(|sha| format!("commit {}", &sha[..sha.len().min(12)]))
        .unwrap_or_else(|| "unknown commit".into());
    println!("cargo:rustc-env=TTVAULT_COMMIT={commit}");
}

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    out.status.success().then(|| text.trim().to_string())
}

/// HEAD, only when this crate is the checkout's top: a tarball unpacked inside some other
/// repository must not take that repository's commit.
fn from_git(dir: &Path) -> Option<String> {
    let top = git(dir, &["rev-parse", "--show-toplevel"])?;
    if Path::new(&top).canonicalize().ok()? != dir.canonicalize().ok()? {
        return None;
    }
    let sha = git(dir, &["rev-parse", "HEAD"])?;
    // Rebuild when HEAD moves: HEAD itself (a checkout), the branch it names (a commit),
    // and packed-refs (a gc). Only files that exist: cargo reruns a build script whose
    // watched file is missing on every build.
    let git_dir = git(dir, &["rev-parse", "--absolute-git-dir"])?;
    let mut watched = vec![format!("{git_dir}/HEAD")];
    let common = git(
        dir,
        &["rev-parse", "--path-format=absolute", "--git-common-dir"],
    );
    if let (Some(common), Some(branch)) = (common, git(dir, &["symbolic-ref", "-q", "HEAD"])) {
        watched.push(format!("{common}/{branch}"));
        watched.push(format!("{common}/packed-refs"));
    }
    for file in watched.iter().filter(|f| Path::new(f).exists()) {
        println!("cargo:rerun-if-changed={file}");
    }
    is_sha(&sha).then_some(sha)
}

/// `{"git": {"sha1": "…"}, …}`, as `cargo package` writes it.
fn from_vcs_info(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join(".cargo_vcs_info.json")).ok()?;
    let at = text.find("\"sha1\"")?;
    let rest = &text[at + 6..];
    let start = rest.find('"')? + 1;
    let sha = &rest[start..start + rest[start..].find('"')?];
    is_sha(sha).then(|| sha.to_string())
}

fn is_sha(s: &str) -> bool {
    s.len() >= 7 && s.bytes().all(|b| b.is_ascii_hexdigit())
}
