//! Records the git commit the binary is built from, for the About page.
//!
//! `GATEHOUSE_GIT_COMMIT` set at build time wins (for builds from an exported tree, such as
//! a container context without `.git`); otherwise git is asked; `unknown` when neither can say.

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=GATEHOUSE_GIT_COMMIT");
    let commit = std::env::var("GATEHOUSE_GIT_COMMIT")
        .ok()
        .filter(|value| !value.trim().is_empty())
        .or_else(commit_from_git)
        .unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env=GATEHOUSE_GIT_COMMIT={commit}");
}

fn commit_from_git() -> Option<String> {
    // Relative to this package (cargo resolves a relative rerun-if-changed path against it):
    // cargo reuses this build's result for a clone at another path whose sources are the same
    // (CI builds each fresh clone in one shared target folder), and an absolute path would
    // keep watching the first clone's HEAD, leaving an old commit on the About page.
    let git_dir = git(&["rev-parse", "--path-format=relative", "--git-dir"])
        .or_else(|| git(&["rev-parse", "--git-dir"]))?;
    // Rebuild when HEAD moves: HEAD itself changes on checkout, the ref file on commit.
    println!("cargo:rerun-if-changed={git_dir}/HEAD");
    if let Some(reference) = git(&["symbolic-ref", "-q", "HEAD"]) {
        println!("cargo:rerun-if-changed={git_dir}/{reference}");
    }
    git(&["rev-parse", "--short=12", "HEAD"])
}

fn git(args: &[&str]) -> Option<String> {
    let output = Command::new("git").args(args).output().ok()?;
    if !output.status.success() {
        return None;
    }
    Some(String::from_utf8(output.stdout).ok()?.trim().to_string())
}
