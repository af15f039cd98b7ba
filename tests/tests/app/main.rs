//! Samskab's integration tests, one module per area, in one test binary: each
//! binary links the whole server, so one link instead of one per file.
//!
//! Most tests run once per database (`both_backends!`: `…::sqlite` and
//! `…::postgres`). Run one area with a filter, e.g.
//! `cargo test -p samskab-tests --test app -- ideas::`.
//!
//! Modules that need a service `tests/run` starts say so and skip without it:
//! `mail` and `mail_flows` (the SMTP sink), `oidc` (the test OpenID Provider);
//! `opinion_polis` and one `deliberation` test read the real Pol.is data
//! (`samskab_tests::polis_data`).

mod about;
mod accounts;
mod admin;
mod assisted;
mod big_conversation;
mod complaints;
mod consultations;
mod data_rights;
mod deadlines;
mod deliberation;
mod duplicates;
mod eligibility;
mod exports;
mod health;
mod ideas;
mod mail;
mod mail_flows;
mod oidc;
mod operations;
mod opinion_polis;
mod pages;
mod paper;
mod personal_data;
mod publiccode;
mod report;
mod report_brief;
mod rules;
mod security;
mod upgrade;
mod workbench;
