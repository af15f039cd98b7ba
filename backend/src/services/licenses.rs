//! The licences of what Samskab is made of, for the `/licenses` page: its own
//! (EUPL-1.2) and those of the crates it is built from, read from the list
//! generated into the frontend crate (`frontend/licenses/third-party.json`).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::LazyLock;

/// Samskab's own licence (SPDX identifier).
pub const OWN_LICENSE: &str = "EUPL-1.2";

/// One crate Samskab is built from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Crate {
    pub name: String,
    pub version: String,
    /// SPDX licence expression from the crate's Cargo.toml.
    pub license: String,
}

#[derive(Deserialize)]
struct ListFile {
    crates: Vec<Crate>,
}

/// The crates that use one licence expression.
#[derive(Debug, Serialize)]
pub struct LicenseGroup {
    pub license: String,
    pub crates: Vec<Crate>,
}

static CRATES: LazyLock<Result<Vec<Crate>, String>> = LazyLock::new(|| {
    serde_json::from_str::<ListFile>(samskab_frontend::THIRD_PARTY_LICENSES)
        .map(|file| file.crates)
        .map_err(|e| format!("frontend/licenses/third-party.json: {e}"))
});

/// Every third-party crate, by name and version.
pub fn third_party() -> Result<&'static [Crate], anyhow::Error> {
    CRATES.as_deref().map_err(|e| anyhow::anyhow!("{e}"))
}

/// The crates grouped by licence expression, the most used first.
pub fn by_license(crates: &[Crate]) -> Vec<LicenseGroup> {
    let mut groups: BTreeMap<&str, Vec<Crate>> = BTreeMap::new();
    for c in crates {
        groups.entry(&c.license).or_default().push(c.clone());
    }
    let mut groups: Vec<LicenseGroup> = groups
        .into_iter()
        .map(|(license, crates)| LicenseGroup {
            license: license.to_owned(),
            crates,
        })
        .collect();
    groups.sort_by(|a, b| {
        b.crates
            .len()
            .cmp(&a.crates.len())
            .then(a.license.cmp(&b.license))
    });
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_list_reads() {
        let crates = third_party().unwrap();
        assert!(crates.iter().all(|c| !c.license.is_empty()));
    }

    #[test]
    fn groups_put_the_most_used_licence_first() {
        let c = |name: &str, license: &str| Crate {
            name: name.into(),
            version: "1.0.0".into(),
            license: license.into(),
        };
        let groups = by_license(&[c("a", "MIT"), c("b", "ISC"), c("c", "MIT"), c("d", "Zlib")]);
        let summary: Vec<(&str, usize)> = groups
            .iter()
            .map(|g| (g.license.as_str(), g.crates.len()))
            .collect();
        assert_eq!(summary, [("MIT", 2), ("ISC", 1), ("Zlib", 1)]);
    }
}
