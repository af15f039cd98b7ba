//! What another municipality needs to adopt Samskab: the licences page and
//! its generated crate list, the EUPL text in the binary, and security.txt.

use samskab::configuration::SecurityTxtSettings;
use samskab::services::licenses::{self, Crate};
use samskab::services::security_txt;
use samskab_tests::{TestApp, both_backends};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The list is generated for the platforms .ci/deny.toml checks.
const PLATFORMS: [&str; 2] = ["x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu"];
const LIST: &str = "frontend/licenses/third-party.json";
const UPDATE_VAR: &str = "SAMSKAB_UPDATE_LICENSES";

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// Every crate the `samskab` package is built from (normal and build
/// dependencies, transitively; not the tests' own), without Samskab's crates.
fn crates_from_the_dependency_graph() -> Vec<Crate> {
    use cargo_metadata::{DependencyKind, MetadataCommand, PackageId};
    let mut options = vec!["--locked".to_owned()];
    for platform in PLATFORMS {
        options.extend(["--filter-platform".to_owned(), platform.to_owned()]);
    }
    let metadata = MetadataCommand::new()
        .manifest_path(workspace_root().join("Cargo.toml"))
        .other_options(options)
        .exec()
        .expect("cargo metadata");
    let resolve = metadata.resolve.as_ref().expect("a resolved graph");
    let root = metadata
        .packages
        .iter()
        .find(|p| p.name.as_str() == "samskab")
        .expect("the samskab package")
        .id
        .clone();
    let mut seen: BTreeSet<PackageId> = BTreeSet::new();
    let mut todo = vec![root];
    while let Some(id) = todo.pop() {
        if !seen.insert(id.clone()) {
            continue;
        }
        let node = resolve
            .nodes
            .iter()
            .find(|n| n.id == id)
            .expect("every package has a node");
        for dep in &node.deps {
            let shipped = dep
                .dep_kinds
                .iter()
                .any(|k| matches!(k.kind, DependencyKind::Normal | DependencyKind::Build));
            if shipped {
                todo.push(dep.pkg.clone());
            }
        }
    }
    let mut crates: Vec<Crate> = metadata
        .packages
        .iter()
        .filter(|p| seen.contains(&p.id) && !metadata.workspace_members.contains(&p.id))
        .map(|p| Crate {
            name: p.name.to_string(),
            version: p.version.to_string(),
            license: p.license.clone().unwrap_or_else(|| {
                panic!(
                    "{} {} declares no licence expression: add a clarification to \
                     .ci/deny.toml and name the licence here",
                    p.name, p.version
                )
            }),
        })
        .collect();
    crates.sort_by(|a, b| (&a.name, &a.version).cmp(&(&b.name, &b.version)));
    crates
}

fn render_list(crates: &[Crate]) -> String {
    let file = serde_json::json!({
        "generated_by": format!(
            "{UPDATE_VAR}=1 cargo test -p samskab-tests --test app -- about::the_licence_list_matches_cargo_lock"
        ),
        "crates": crates,
    });
    let mut text = serde_json::to_string_pretty(&file).expect("serialising the list");
    text.push('\n');
    text
}

/// The /licenses page reads a list generated from Cargo.lock; this keeps it
/// current. CI runs it, so a dependency added without regenerating fails.
#[test]
fn the_licence_list_matches_cargo_lock() {
    let expected = render_list(&crates_from_the_dependency_graph());
    let path = workspace_root().join(LIST);
    if std::env::var(UPDATE_VAR).as_deref() == Ok("1") {
        std::fs::write(&path, &expected).expect("writing the licence list");
        return;
    }
    let actual = std::fs::read_to_string(&path).expect("reading the licence list");
    if actual != expected {
        let names = |text: &str| -> BTreeSet<String> {
            let crates: Vec<Crate> = serde_json::from_str::<serde_json::Value>(text)
                .ok()
                .and_then(|v| serde_json::from_value(v["crates"].clone()).ok())
                .unwrap_or_default();
            crates
                .into_iter()
                .map(|c| format!("{} {} ({})", c.name, c.version, c.license))
                .collect()
        };
        let (old, new) = (names(&actual), names(&expected));
        panic!(
            "{LIST} no longer matches Cargo.lock.\n  added: {:?}\n  removed: {:?}\n\
             Regenerate it with `{UPDATE_VAR}=1 cargo test -p samskab-tests --test app -- \
             about::the_licence_list_matches_cargo_lock` and commit it.",
            new.difference(&old).collect::<Vec<_>>(),
            old.difference(&new).collect::<Vec<_>>(),
        );
    }
    // What the binary embeds is this file.
    assert_eq!(
        licenses::third_party().expect("the embedded list").len(),
        crates_from_the_dependency_graph().len()
    );
}

both_backends!(the_licences_page_names_every_crate_in_both_languages);
async fn the_licences_page_names_every_crate_in_both_languages(app: TestApp) {
    let crates = licenses::third_party().expect("the embedded list");
    assert!(crates.len() > 100, "the list is the real graph");
    for (lang, heading, full_text) in [
        ("da", "Licenser og kildekode", "Hele licensteksten"),
        ("en", "Licences and source code", "The full licence text"),
    ] {
        let (status, page) = app.page(&format!("/licenses?lang={lang}")).await;
        assert_eq!(status, 200);
        assert_eq!(page.lang(), lang);
        assert_eq!(page.h1(), heading);
        let text_link = page.text("main a[href='/licenses/EUPL-1.2.txt']").unwrap();
        assert!(text_link.starts_with(full_text), "{text_link}");
        assert!(page.body.contains("EUPL-1.2"));
        // Every crate once, linked to its own source.
        let links = page.attrs("main .crate-list a", "href");
        assert_eq!(links.len(), crates.len());
        for c in crates {
            let href = format!("https://crates.io/crates/{}/{}", c.name, c.version);
            assert!(links.contains(&href), "{href} missing");
        }
        // The summary counts add up and each points at its group.
        let groups = licenses::by_license(crates);
        let anchors = page.attrs("main .license-summary a", "href");
        assert_eq!(anchors.len(), groups.len());
        for anchor in anchors {
            let id = anchor.trim_start_matches('#');
            assert!(page.text(&format!("h3#{id}")).is_some(), "{anchor}");
        }
        let version = page.text("main .build-version").unwrap_or_default();
        assert!(version.contains(samskab::build_info::VERSION), "{version}");
        assert!(version.contains(samskab::build_info::COMMIT), "{version}");
    }
    // The footer of every page leads here.
    let (_, home) = app.page("/").await;
    assert_eq!(home.attrs("footer a[href='/licenses']", "href").len(), 1);
}

both_backends!(the_binary_serves_the_official_eupl_text);
async fn the_binary_serves_the_official_eupl_text(app: TestApp) {
    let res = app.get("/licenses/EUPL-1.2.txt").await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["content-type"].to_str().unwrap(),
        "text/plain; charset=utf-8"
    );
    let body = res.text().await.unwrap();
    let file = std::fs::read_to_string(workspace_root().join("LICENSE")).unwrap();
    assert_eq!(body, file, "the served text is the repository's LICENSE");
    assert!(body.starts_with(
        "EUROPEAN UNION PUBLIC LICENCE v. 1.2\nEUPL © the European Union 2007, 2016\n"
    ));
    for article in [
        "1.Definitions",
        "5.Obligations of the Licensee",
        "15.Applicable Law",
        "Appendix",
    ] {
        assert!(body.contains(article), "{article}");
    }
}

fn field<'a>(body: &'a str, name: &str) -> Vec<&'a str> {
    body.split("\r\n")
        .filter_map(|line| line.strip_prefix(name)?.strip_prefix(": "))
        .collect()
}

both_backends!(security_txt_defaults_to_the_project_policy);
async fn security_txt_defaults_to_the_project_policy(app: TestApp) {
    let res = app.get("/.well-known/security.txt").await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["content-type"].to_str().unwrap(),
        "text/plain; charset=utf-8"
    );
    let body = res.text().await.unwrap();
    let policy = security_txt::project_policy_url();
    assert!(policy.ends_with("/SECURITY.md"));
    assert_eq!(field(&body, "Contact"), [policy.as_str()]);
    assert_eq!(field(&body, "Policy"), [policy.as_str()]);
    assert_eq!(field(&body, "Preferred-Languages"), ["da, en"]);
    let expires = field(&body, "Expires");
    assert_eq!(expires.len(), 1, "{body}");
    let expires = chrono::DateTime::parse_from_rfc3339(expires[0]).unwrap();
    let ahead = expires.with_timezone(&chrono::Utc) - chrono::Utc::now();
    assert!(
        ahead > chrono::Duration::days(28) && ahead < chrono::Duration::days(365),
        "{ahead}"
    );
    // The test app's public URL is plain http: no Canonical for it.
    assert!(field(&body, "Canonical").is_empty());
}

both_backends!(
    security_txt_publishes_the_municipalitys_contact,
    samskab_tests::BuildOptions::default(),
    |s: &mut samskab::configuration::Settings| {
        s.public_url = Some("https://samskab.example.dk".into());
        s.security_txt = SecurityTxtSettings {
            contact: Some("mailto:sikkerhed@example.dk tel:+45-89-40-20-00".into()),
            expires: Some("2099-06-30T00:00:00Z".into()),
            preferred_languages: Some("da".into()),
            policy: None,
            encryption: Some("https://example.dk/pgp.asc".into()),
        };
    }
);
async fn security_txt_publishes_the_municipalitys_contact(app: TestApp) {
    let body = app
        .get("/.well-known/security.txt")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        field(&body, "Contact"),
        ["mailto:sikkerhed@example.dk", "tel:+45-89-40-20-00"]
    );
    assert_eq!(field(&body, "Expires"), ["2099-06-30T00:00:00Z"]);
    assert_eq!(field(&body, "Preferred-Languages"), ["da"]);
    assert_eq!(field(&body, "Encryption"), ["https://example.dk/pgp.asc"]);
    assert_eq!(
        field(&body, "Canonical"),
        ["https://samskab.example.dk/.well-known/security.txt"]
    );
}

#[tokio::test]
async fn a_bad_security_contact_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = samskab_tests::test_settings(&dir, None);
    settings.security_txt.contact = Some("sikkerhed@example.dk".into());
    let err = samskab::startup::Application::build(settings, Default::default())
        .await
        .err()
        .expect("the start is refused");
    assert!(
        format!("{err:#}").contains("SAMSKAB_SECURITY_TXT__CONTACT"),
        "{err:#}"
    );
}
