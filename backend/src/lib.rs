//! Samskab: citizen co-creation and deliberation for Danish municipalities.

pub mod auth;
pub mod build_info;
pub mod configuration;
pub mod dates;
pub mod db;
pub mod domain;
pub mod entities;
pub mod errors;
pub mod i18n;
pub mod insert_bench;
pub mod jobs;
pub mod local_path;
pub mod markdown;
pub mod numbers;
pub mod open_csv;
pub mod opinion;
pub mod opinion_tools;
pub mod readability;
pub mod routes;
pub mod services;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod views;
