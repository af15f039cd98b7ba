//! Which Samskab this is: the version from Cargo.toml and the git commit it was
//! built from (`build.rs`; `unknown` when built without git or `SAMSKAB_GIT_COMMIT`).

/// Semantic version of this release, e.g. `0.1.0` (see CHANGELOG.md).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Full git commit hash, or `unknown`.
pub const COMMIT: &str = env!("SAMSKAB_GIT_COMMIT");

/// What `samskab --version` prints after the program name.
pub const VERSION_LINE: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("SAMSKAB_GIT_COMMIT"),
    ")"
);

/// The public source repository (Cargo.toml `repository`).
pub const REPOSITORY: &str = env!("CARGO_PKG_REPOSITORY");
