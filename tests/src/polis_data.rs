//! Where the real Pol.is conversations live, for the tests that read them.
//!
//! The data is The Computational Democracy Project's openData (CC BY 4.0),
//! <https://github.com/compdemocracy/openData>, cloned beside the repository
//! as `../shared/data/polis-opendata` (one folder per conversation, e.g.
//! `vtaiwan.uberx/`); it is never copied into the repository.
//! `SAMSKAB_POLIS_DATA=/some/dir` points the tests at another copy.
//!
//! Without that directory the tests that need it pass after saying loudly
//! that they were skipped and how to get the data. When it is there they are
//! mandatory: a missing conversation folder or an unreadable file inside it
//! fails the test.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Once;

/// The environment variable that overrides the default location.
pub const POLIS_DATA_VAR: &str = "SAMSKAB_POLIS_DATA";

/// The default location: `polis-opendata` in `shared/data/` beside the repository.
pub const POLIS_DATA_DEFAULT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/data/polis-opendata"
);

/// The Pol.is openData directory: `$SAMSKAB_POLIS_DATA`, else `../shared/data/polis-opendata`
/// beside the repository.
pub fn polis_data_location() -> PathBuf {
    std::env::var_os(POLIS_DATA_VAR)
        .filter(|v| !v.is_empty())
        .map_or_else(|| PathBuf::from(POLIS_DATA_DEFAULT), PathBuf::from)
}

/// A present Pol.is openData directory.
#[derive(Debug, Clone)]
pub struct PolisData {
    root: PathBuf,
}

impl PolisData {
    /// The directory holding one folder per conversation.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The folder of one conversation, e.g. `bg2050-volunteers`. Panics when it
    /// is missing: with the data present, every test that needs it must run.
    pub fn export(&self, name: &str) -> PathBuf {
        let dir = self.root.join(name);
        assert!(
            dir.is_dir(),
            "Pol.is openData at {} has no conversation `{name}` ({} is missing); \
             the copy is incomplete: clone https://github.com/compdemocracy/openData again",
            self.root.display(),
            dir.display()
        );
        dir
    }
}

/// The Pol.is openData for `test`, or `None` (after saying so on the terminal,
/// with where to get the data) when the directory does not exist. The message
/// goes straight to stderr, past the test harness's capture, so it shows in
/// every `cargo test` run.
pub fn polis_data(test: &str) -> Option<PolisData> {
    let root = polis_data_location();
    if root.is_dir() {
        return Some(PolisData { root });
    }
    static HOW_TO: Once = Once::new();
    let mut stderr = std::io::stderr().lock();
    HOW_TO.call_once(|| {
        let _ = write!(
            stderr,
            "\n!!! Pol.is openData not found at {}: the tests on real Pol.is conversations are SKIPPED.\n\
             !!! To run them, clone The Computational Democracy Project's public openData repository\n\
             !!! beside this repository:\n\
             !!!     mkdir -p ../shared/data\n\
             !!!     git clone https://github.com/compdemocracy/openData ../shared/data/polis-opendata\n\
             !!! or point {POLIS_DATA_VAR} at a copy elsewhere.\n",
            root.display()
        );
    });
    let _ = writeln!(
        stderr,
        "!!! `{test}` SKIPPED: no Pol.is openData at {} !!!",
        root.display()
    );
    None
}
