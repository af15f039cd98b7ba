//! SeaORM entities: the shape of the tables and nothing else. Behaviour lives in
//! `crate::services`.

pub mod audit_log;
pub mod comment;
pub mod comment_flag;
pub mod complaint;
pub mod consultation;
pub mod consultation_attachment;
pub mod consultation_follow;
pub mod email_token;
pub mod idea;
pub mod idea_follow;
pub mod idea_status_change;
pub mod idea_support;
pub mod mail_outbox;
pub mod moderation_action;
pub mod notification;
pub mod opinion_history;
pub mod opinion_snapshot;
pub mod paper_sheet;
pub mod participant;
pub mod population_figure;
pub mod rate_limit;
pub mod session;
pub mod statement;
pub mod user;
pub mod vote;
pub mod vote_history;
