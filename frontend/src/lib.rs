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
