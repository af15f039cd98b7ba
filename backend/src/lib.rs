//! Samskab: citizen co-creation and deliberation for Danish municipalities.

pub mod auth;
pub mod backup;
pub mod build_info;
pub mod configuration;
pub mod db;
pub mod domain;
pub mod entities;
pub mod errors;
pub mod i18n;
pub mod jobs;
pub mod local_path;
pub mod markdown;
pub mod metrics;
pub mod migrate_data;
pub mod open_csv;
pub mod opinion;
pub mod opinion_tools;
pub mod routes;
pub mod services;
pub mod shutdown;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod views;
