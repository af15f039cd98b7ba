//! Samskab's user interface assets: handlebars templates, static files and the
//! Danish/English message catalogs. Everything is embedded into the binary so a
//! deployment is one file and no page ever loads anything from another origin.

use rust_embed::Embed;

/// Handlebars templates (`layouts/`, `partials/`, `pages/`, `mail/`).
#[derive(Embed)]
#[folder = "templates/"]
#[include = "*.hbs"]
pub struct Templates;

/// Self-hosted CSS, JavaScript enhancements and images served under `/static/`.
#[derive(Embed)]
#[folder = "static/"]
pub struct Static;

/// Message catalogs, one JSON file per locale (`da.json`, `en.json`).
#[derive(Embed)]
#[folder = "locales/"]
#[include = "*.json"]
pub struct Locales;

/// Samskab's own licence, the official English text of the EUPL-1.2 (the
/// repository's LICENSE), so every copy of the binary carries it.
pub const LICENSE_TEXT: &str = include_str!("../../LICENSE");

/// The crates Samskab is built from, with their licences: generated from
/// `cargo metadata` by the `licenses` integration test, which fails when this
/// file no longer matches Cargo.lock (`SAMSKAB_UPDATE_LICENSES=1` rewrites it).
pub const THIRD_PARTY_LICENSES: &str = include_str!("../licenses/third-party.json");

/// The font of the PDF report (DejaVu Sans, regular and bold; free licence in
/// `fonts/LICENSE-DejaVu.txt`): embedded in every PDF, so the report reads the
/// same everywhere, æ, ø and å included.
pub const PDF_FONT_REGULAR: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
pub const PDF_FONT_BOLD: &[u8] = include_bytes!("../fonts/DejaVuSans-Bold.ttf");
