//! `publiccode.yml` against the publiccode.yml standard 0.4 (what the public
//! software catalogues read), and against the rest of the repository: the same
//! version, licence and repository as Cargo.toml, the release date of that
//! version in CHANGELOG.md, exactly the languages the app ships.
//!
//! The typed structs name every key the standard makes mandatory, with
//! `deny_unknown_fields` so a misspelt key fails instead of being ignored.

use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PublicCode {
    publiccode_yml_version: String,
    name: String,
    url: String,
    landing_url: Option<String>,
    software_version: Option<String>,
    release_date: Option<String>,
    logo: Option<String>,
    platforms: Vec<String>,
    categories: Vec<String>,
    used_by: Option<Vec<String>>,
    roadmap: Option<String>,
    development_status: String,
    software_type: String,
    intended_audience: Option<IntendedAudience>,
    description: BTreeMap<String, Description>,
    legal: Legal,
    maintenance: Maintenance,
    localisation: Localisation,
    depends_on: Option<DependsOn>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct IntendedAudience {
    countries: Option<Vec<String>>,
    unsupported_countries: Option<Vec<String>>,
    scope: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Description {
    localised_name: Option<String>,
    short_description: String,
    long_description: String,
    documentation: Option<String>,
    api_documentation: Option<String>,
    features: Vec<String>,
    screenshots: Option<Vec<String>>,
    videos: Option<Vec<String>>,
    awards: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Legal {
    license: String,
    main_copyright_owner: Option<String>,
    repo_owner: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Maintenance {
    #[serde(rename = "type")]
    kind: String,
    contractors: Option<Vec<Contractor>>,
    contacts: Option<Vec<Contact>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Contractor {
    name: String,
    until: String,
    email: Option<String>,
    website: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Contact {
    name: String,
    email: Option<String>,
    phone: Option<String>,
    affiliation: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Localisation {
    localisation_ready: bool,
    available_languages: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct DependsOn {
    open: Option<Vec<Dependency>>,
    proprietary: Option<Vec<Dependency>>,
    hardware: Option<Vec<Dependency>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Dependency {
    name: String,
    version_min: Option<String>,
    version_max: Option<String>,
    version: Option<String>,
    optional: Option<bool>,
}

/// The standard's controlled vocabulary of categories (categories-list).
const CATEGORIES: &[&str] = &[
    "accounting",
    "agile-project-management",
    "applicant-tracking",
    "application-development",
    "appointment-scheduling",
    "backup",
    "billing-and-invoicing",
    "blog",
    "budgeting",
    "business-intelligence",
    "business-process-management",
    "cad",
    "call-center-management",
    "cloud-management",
    "collaboration",
    "communications",
    "compliance-management",
    "contact-management",
    "content-management",
    "crm",
    "customer-service-and-support",
    "data-analytics",
    "data-collection",
    "data-visualization",
    "design",
    "design-system",
    "digital-asset-management",
    "digital-citizenship",
    "document-management",
    "donor-management",
    "e-commerce",
    "e-signature",
    "educational-content",
    "email-management",
    "email-marketing",
    "employee-management",
    "enterprise-project-management",
    "enterprise-social-networking",
    "erp",
    "event-management",
    "facility-management",
    "feedback-and-reviews-management",
    "financial-reporting",
    "fleet-management",
    "fundraising",
    "gamification",
    "geographic-information-systems",
    "grant-management",
    "graphic-design",
    "help-desk",
    "hr",
    "ide",
    "identity-management",
    "instant-messaging",
    "inventory-management",
    "it-asset-management",
    "it-development",
    "it-management",
    "it-security",
    "it-service-management",
    "knowledge-management",
    "learning-management-system",
    "marketing",
    "mind-mapping",
    "mobile-marketing",
    "mobile-payment",
    "network-management",
    "office",
    "online-booking",
    "online-community",
    "payment-gateway",
    "payroll",
    "predictive-analysis",
    "procurement",
    "productivity-suite",
    "project-collaboration",
    "project-management",
    "property-management",
    "real-estate-management",
    "remote-support",
    "resource-management",
    "sales-management",
    "seo",
    "service-desk",
    "social-media-management",
    "survey",
    "talent-management",
    "task-management",
    "taxes-management",
    "test-management",
    "time-management",
    "time-tracking",
    "translation",
    "video-conferencing",
    "video-editing",
    "visitor-management",
    "voip",
    "warehouse-management",
    "web-collaboration",
    "web-conferencing",
    "website-builder",
    "whistleblowing",
    "workflow-management",
];

/// The standard's scope list (intendedAudience/scope).
const SCOPES: &[&str] = &[
    "agriculture",
    "culture",
    "defence",
    "education",
    "emergency-services",
    "employment",
    "energy",
    "environment",
    "finance-and-economic-development",
    "foreign-affairs",
    "healthcare",
    "infrastructures",
    "justice",
    "local-authorities",
    "manufacturing",
    "research",
    "science-and-technology",
    "security",
    "society",
    "sport",
    "tourism",
    "transportation",
    "welfare",
];

const PLATFORMS: &[&str] = &["web", "windows", "mac", "linux", "ios", "android"];
const DEVELOPMENT_STATUSES: &[&str] = &["concept", "development", "beta", "stable", "obsolete"];
const SOFTWARE_TYPES: &[&str] = &[
    "standalone/mobile",
    "standalone/iot",
    "standalone/desktop",
    "standalone/web",
    "standalone/backend",
    "standalone/other",
    "addon",
    "library",
    "configurationFiles",
];
const MAINTENANCE_TYPES: &[&str] = &["internal", "contract", "community", "none"];

fn date(field: &str, value: &str) -> chrono::NaiveDate {
    assert!(
        value.len() == 10,
        "{field}: `{value}` is not a YYYY-MM-DD date"
    );
    chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .unwrap_or_else(|_| panic!("{field}: `{value}` is not a YYYY-MM-DD date"))
}

fn https_url(field: &str, value: &str) {
    let url = url::Url::parse(value).unwrap_or_else(|e| panic!("{field}: `{value}`: {e}"));
    assert_eq!(url.scheme(), "https", "{field}: `{value}` is not https");
    assert!(url.host_str().is_some(), "{field}: `{value}` has no host");
}

/// BCP 47 in the form the standard's examples use: a 2–3 letter primary
/// language subtag, then alphanumeric subtags.
fn language_tag(field: &str, tag: &str) {
    let mut parts = tag.split('-');
    let primary = parts.next().unwrap_or_default();
    assert!(
        (2..=3).contains(&primary.len()) && primary.chars().all(|c| c.is_ascii_lowercase()),
        "{field}: `{tag}` has no primary language subtag"
    );
    assert!(
        parts.all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric())),
        "{field}: `{tag}` is not a BCP 47 tag"
    );
}

fn load() -> PublicCode {
    let text = std::fs::read_to_string(root().join("publiccode.yml")).expect("publiccode.yml");
    serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("publiccode.yml: {e}"))
}

#[test]
fn publiccode_yml_follows_the_standard() {
    let p = load();
    assert_eq!(p.publiccode_yml_version, "0.4");
    assert!(!p.name.trim().is_empty());
    https_url("url", &p.url);
    if let Some(url) = &p.landing_url {
        https_url("landingURL", url);
    }
    if let Some(url) = &p.roadmap {
        https_url("roadmap", url);
    }
    assert!(p.logo.is_none() || p.logo.as_deref().is_some_and(|l| !l.is_empty()));
    if let Some(d) = &p.release_date {
        date("releaseDate", d);
    }
    assert!(!p.platforms.is_empty(), "platforms");
    for platform in &p.platforms {
        assert!(
            PLATFORMS.contains(&platform.as_str()),
            "platform `{platform}`"
        );
    }
    assert!(!p.categories.is_empty(), "categories");
    for category in &p.categories {
        assert!(
            CATEGORIES.contains(&category.as_str()),
            "category `{category}` is not in the standard's list"
        );
    }
    assert!(p.used_by.as_ref().is_none_or(|u| !u.is_empty()));
    assert!(DEVELOPMENT_STATUSES.contains(&p.development_status.as_str()));
    assert!(SOFTWARE_TYPES.contains(&p.software_type.as_str()));
    if let Some(audience) = &p.intended_audience {
        let countries = audience.countries.iter().flatten();
        for country in countries.chain(audience.unsupported_countries.iter().flatten()) {
            assert!(
                country.len() == 2 && country.chars().all(|c| c.is_ascii_lowercase()),
                "country `{country}` is not a lowercase ISO 3166-1 alpha-2 code"
            );
        }
        for scope in audience.scope.iter().flatten() {
            assert!(SCOPES.contains(&scope.as_str()), "scope `{scope}`");
        }
    }

    assert!(
        !p.description.is_empty(),
        "at least one description language"
    );
    for (lang, d) in &p.description {
        language_tag("description", lang);
        let at = |key: &str| format!("description/{lang}/{key}");
        assert!(
            d.localised_name
                .as_ref()
                .is_none_or(|n| !n.trim().is_empty())
        );
        let short = d.short_description.trim();
        assert!(!short.is_empty(), "{}", at("shortDescription"));
        assert!(
            short.chars().count() <= 150,
            "{} has {} characters (at most 150)",
            at("shortDescription"),
            short.chars().count()
        );
        assert!(
            !short.contains('\n'),
            "{} is one line",
            at("shortDescription")
        );
        let long = d.long_description.chars().count();
        assert!(
            (150..=10_000).contains(&long),
            "{} has {long} characters (150 to 10000)",
            at("longDescription")
        );
        assert!(!d.features.is_empty(), "{}", at("features"));
        assert!(d.features.iter().all(|f| !f.trim().is_empty()));
        for url in d.documentation.iter().chain(&d.api_documentation) {
            https_url(&at("documentation"), url);
        }
        for url in d.videos.iter().flatten() {
            https_url(&at("videos"), url);
        }
        assert!(d.screenshots.as_ref().is_none_or(|s| !s.is_empty()));
        assert!(d.awards.as_ref().is_none_or(|a| !a.is_empty()));
    }

    let license = spdx::Expression::parse(&p.legal.license)
        .unwrap_or_else(|e| panic!("legal/license `{}`: {e}", p.legal.license));
    assert!(
        license.requirements().all(|r| r
            .req
            .license
            .id()
            .is_some_and(|id| id.is_osi_approved() || id.is_fsf_free_libre())),
        "legal/license `{}` is not an open-source licence",
        p.legal.license
    );
    assert!(
        p.legal
            .main_copyright_owner
            .as_ref()
            .is_none_or(|o| !o.trim().is_empty())
    );
    assert!(
        p.legal
            .repo_owner
            .as_ref()
            .is_none_or(|o| !o.trim().is_empty())
    );

    let m = &p.maintenance;
    assert!(
        MAINTENANCE_TYPES.contains(&m.kind.as_str()),
        "maintenance/type `{}`",
        m.kind
    );
    if m.kind == "contract" {
        let contractors = m.contractors.as_deref().unwrap_or_default();
        assert!(
            !contractors.is_empty(),
            "maintenance/contractors for a contract"
        );
        for c in contractors {
            assert!(!c.name.trim().is_empty());
            date("maintenance/contractors/until", &c.until);
            assert!(c.email.as_ref().is_none_or(|e| e.contains('@')));
            if let Some(site) = &c.website {
                https_url("maintenance/contractors/website", site);
            }
        }
    }
    if m.kind == "internal" || m.kind == "community" {
        let contacts = m.contacts.as_deref().unwrap_or_default();
        assert!(
            !contacts.is_empty(),
            "maintenance/contacts for {} maintenance",
            m.kind
        );
        for c in contacts {
            assert!(!c.name.trim().is_empty());
            assert!(c.email.as_ref().is_none_or(|e| e.contains('@')));
            assert!(c.phone.as_ref().is_none_or(|ph| ph.starts_with('+')));
            assert!(c.affiliation.as_ref().is_none_or(|a| !a.trim().is_empty()));
        }
    }

    assert!(!p.localisation.available_languages.is_empty());
    for lang in &p.localisation.available_languages {
        language_tag("localisation/availableLanguages", lang);
    }
    if let Some(depends) = &p.depends_on {
        let all = [&depends.open, &depends.proprietary, &depends.hardware];
        for dependency in all.into_iter().flatten().flatten() {
            assert!(!dependency.name.trim().is_empty());
            for v in [
                &dependency.version_min,
                &dependency.version_max,
                &dependency.version,
            ] {
                assert!(v.as_ref().is_none_or(|v| !v.trim().is_empty()));
            }
            let _ = dependency.optional;
        }
    }
}

/// The version line of `## [VERSION] - DATE` in CHANGELOG.md.
fn changelog_release_date(version: &str) -> Option<String> {
    let changelog = std::fs::read_to_string(root().join("CHANGELOG.md")).expect("CHANGELOG.md");
    let heading = format!("## [{version}] - ");
    changelog
        .lines()
        .find_map(|l| l.strip_prefix(&heading).map(|d| d.trim().to_owned()))
}

#[test]
fn publiccode_yml_matches_the_repository() {
    let p = load();
    // One version, one licence, one address everywhere.
    assert_eq!(
        p.software_version.as_deref(),
        Some(env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(p.legal.license, env!("CARGO_PKG_LICENSE"));
    assert_eq!(p.url, env!("CARGO_PKG_REPOSITORY"));
    assert_eq!(p.url, samskab::build_info::REPOSITORY);
    let released = changelog_release_date(env!("CARGO_PKG_VERSION"))
        .expect("CHANGELOG.md has a section for this version");
    date("CHANGELOG.md", &released);
    assert_eq!(p.release_date.as_deref(), Some(released.as_str()));

    // Exactly the languages the app ships, described in each of them.
    let shipped: BTreeSet<String> = std::fs::read_dir(root().join("frontend/locales"))
        .expect("frontend/locales")
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".json").map(str::to_owned)
        })
        .collect();
    let available: BTreeSet<String> = p.localisation.available_languages.iter().cloned().collect();
    assert_eq!(
        available, shipped,
        "availableLanguages are frontend/locales"
    );
    let described: BTreeSet<String> = p.description.keys().cloned().collect();
    assert_eq!(
        described, shipped,
        "a description in every shipped language"
    );
    assert!(p.localisation.localisation_ready);
}

#[test]
fn the_changelog_keeps_its_form() {
    let changelog = std::fs::read_to_string(root().join("CHANGELOG.md")).expect("CHANGELOG.md");
    assert!(
        changelog.contains("## [Unreleased]"),
        "an Unreleased section on top"
    );
    let mut last: Option<chrono::NaiveDate> = None;
    for line in changelog
        .lines()
        .filter(|l| l.starts_with("## [") && !l.starts_with("## [Unreleased]"))
    {
        let (version, released) = line
            .strip_prefix("## [")
            .and_then(|rest| rest.split_once("] - "))
            .unwrap_or_else(|| panic!("`{line}` is not `## [x.y.z] - YYYY-MM-DD`"));
        let parts: Vec<&str> = version.split('.').collect();
        assert!(
            parts.len() == 3 && parts.iter().all(|p| p.parse::<u64>().is_ok()),
            "`{version}` is not a semantic version"
        );
        let released = date("CHANGELOG.md", released.trim());
        assert!(
            last.is_none_or(|newer| released <= newer),
            "newest release first"
        );
        last = Some(released);
    }
    assert!(last.is_some(), "at least one release");
}
