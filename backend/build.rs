//! Records the git commit the binary is built from, for `samskab --version` and `/healthz`.
//!
//! `SAMSKAB_GIT_COMMIT` set at build time wins (a container build or a source tarball has
//! no `.git`); otherwise `git rev-parse HEAD`; otherwise `unknown`. Cargo reruns this
//! script only when that variable changes or HEAD moves (a commit, a checkout), never for
//! an ordinary edit, so it adds no rebuilds between commits.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo::rerun-if-env-changed=SAMSKAB_GIT_COMMIT");
    let from_env = std::env::var("SAMSKAB_GIT_COMMIT")
        .ok()
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty());
    let commit = from_env
        .or_else(commit_from_git)
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo::rustc-env=SAMSKAB_GIT_COMMIT={commit}");
}

fn manifest_dir() -> PathBuf {
    PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default())
}

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(manifest_dir())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (!text.is_empty()).then_some(text)
}

fn commit_from_git() -> Option<String> {
    // Only Samskab's own repository counts: a source tarball unpacked inside some other
    // git checkout (a packaging repository, say) must not take that one's commit.
    let toplevel = PathBuf::from(git(&["rev-parse", "--show-toplevel"])?);
    let workspace = manifest_dir().parent()?.to_path_buf();
    if toplevel.canonicalize().ok()? != workspace.canonicalize().ok()? {
        return None;
    }
    let commit = git(&["rev-parse", "--verify", "HEAD"])?;
    // The files that change when HEAD moves: HEAD itself, the branch it points at (a loose
    // ref, or packed-refs once git has packed it). In a worktree they live in different
    // directories; `--git-path` finds each. Only existing files are watched: cargo would
    // rerun the script on every build for a missing one.
    let mut watch = vec!["HEAD".to_owned(), "packed-refs".to_owned()];
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        watch.push(branch);
    }
    for name in watch {
        if let Some(path) = git(&["rev-parse", "--git-path", &name]) {
            let path = absolute(Path::new(&path));
            if path.is_file() {
                println!("cargo::rerun-if-changed={}", path.display());
            }
        }
    }
    Some(commit)
}

fn absolute(path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        manifest_dir().join(path)
    }
}
