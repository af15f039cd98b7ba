//! The record of processing (GDPR art. 30), as one structured description:
//! every column of every table is either part of a kind of personal data
//! ([`CATEGORIES`]) or named as not personal ([`NOT_PERSONAL`]). The privacy
//! page's "Behandlingsoversigt" is generated from it, and a test reads the
//! live schema of both databases and fails on any column that is classified
//! nowhere, so new personal data cannot slip in undocumented.

use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement};

/// The legal ground of a processing (GDPR art. 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegalBasis {
    /// Art. 6(1)(e): a task in the public interest (the municipality's
    /// citizen involvement).
    PublicTask,
    /// Art. 6(1)(a): consent, which can be withdrawn at any time.
    Consent,
    /// Art. 6(1)(f) via art. 32: keeping the service secure.
    Security,
}

impl LegalBasis {
    /// Its key under `data_rights.basis.`.
    pub fn key(self) -> &'static str {
        match self {
            LegalBasis::PublicTask => "public_task",
            LegalBasis::Consent => "consent",
            LegalBasis::Security => "security",
        }
    }
}

/// One kind of personal data. Its texts (what, purpose, who sees it, how
/// long it is kept, recipients) are under `data_rights.inventory.{key}.`.
#[derive(Debug)]
pub struct Category {
    pub key: &'static str,
    pub basis: LegalBasis,
    /// Where it is stored: table and columns.
    pub columns: &'static [(&'static str, &'static [&'static str])],
}

/// Every kind of personal data Samskab keeps.
pub const CATEGORIES: &[Category] = &[
    Category {
        key: "account",
        basis: LegalBasis::PublicTask,
        columns: &[(
            "users",
            &[
                "display_name",
                "email",
                "password_hash",
                "role",
                "locale",
                "email_verified",
                "created_at",
                "last_login_at",
                "deleted_at",
                "password_changed_at",
                "inactivity_warned_at",
            ],
        )],
    },
    Category {
        key: "identity",
        basis: LegalBasis::PublicTask,
        columns: &[(
            "users",
            &[
                "oidc_subject_hash",
                "identity_provider",
                "loa",
                "birth_year",
                "municipality_code",
            ],
        )],
    },
    Category {
        key: "preferences",
        basis: LegalBasis::Consent,
        columns: &[(
            "users",
            &[
                "mail_notifications",
                "mail_locale",
                "mail_idea_updates",
                "mail_statements",
                "mail_consultations",
            ],
        )],
    },
    Category {
        key: "contributions",
        basis: LegalBasis::PublicTask,
        columns: &[
            ("ideas", &["author_id", "title", "body", "place"]),
            ("comments", &["author_id", "body", "edited_at"]),
            (
                "statements",
                &["participant_id", "created_by", "body", "normalized"],
            ),
            ("idea_supports", &["user_id"]),
            ("comment_flags", &["user_id", "reason"]),
        ],
    },
    Category {
        key: "votes",
        basis: LegalBasis::PublicTask,
        columns: &[
            ("participants", &["user_id", "anon_token_hash"]),
            ("votes", &["participant_id", "value"]),
            ("vote_history", &["participant_id", "value", "cast_at"]),
            ("participants", &["channel"]),
            // Kept from a deleted MitID account so published reports do not
            // change; no longer linked to any person.
            (
                "participants",
                &["kept_verified", "kept_age_band", "kept_municipality"],
            ),
            ("paper_sheets", &["participant_id", "age_band", "district"]),
        ],
    },
    Category {
        key: "notifications",
        basis: LegalBasis::Consent,
        columns: &[
            ("consultation_follows", &["user_id"]),
            ("idea_follows", &["user_id"]),
            ("notifications", &["user_id", "data", "read_at"]),
            ("mail_outbox", &["user_id", "data", "last_error", "subject"]),
            ("email_tokens", &["user_id", "email", "token_hash"]),
        ],
    },
    Category {
        key: "complaints",
        basis: LegalBasis::PublicTask,
        columns: &[("complaints", &["user_id", "body", "answer"])],
    },
    Category {
        key: "security",
        basis: LegalBasis::Security,
        columns: &[
            (
                "sessions",
                &["key_hash", "user_id", "state", "created_at", "last_seen_at"],
            ),
            ("rate_limits", &["key"]),
            ("audit_log", &["actor_id", "detail"]),
        ],
    },
    Category {
        key: "staff",
        basis: LegalBasis::PublicTask,
        columns: &[
            ("moderation_actions", &["actor_id", "reason"]),
            ("statements", &["moderated_by", "moderation_reason"]),
            ("idea_status_changes", &["actor_id", "response"]),
            (
                "consultations",
                &[
                    "created_by",
                    "contact_name",
                    "contact_department",
                    "contact_email",
                    "contact_phone",
                ],
            ),
            ("complaints", &["decided_by", "handler_id"]),
            ("consultation_attachments", &["created_by"]),
            ("paper_sheets", &["entered_by"]),
            ("idea_status_changes", &["signature"]),
        ],
    },
];

/// Columns that hold no personal data: keys, states, counters, times of
/// public things, and the consultations' own texts.
pub const NOT_PERSONAL: &[(&str, &[&str])] = &[
    (
        "consultation_attachments",
        &[
            "id",
            "consultation_id",
            "title",
            "file_name",
            "content_type",
            "size_bytes",
            "data",
            "url",
            "alt_text",
            "created_at",
        ],
    ),
    (
        "consultations",
        &[
            "decision_expected_on",
            "decided_on",
            "outcome_text",
            "outcome_url",
            "outcome_published_at",
            "reminder_sent_at",
        ],
    ),
    (
        "paper_sheets",
        &["id", "consultation_id", "number", "created_at"],
    ),
    (
        "audit_log",
        &["id", "action", "subject_type", "subject_id", "created_at"],
    ),
    (
        "comments",
        &[
            "id",
            "idea_id",
            "parent_id",
            "depth",
            "status",
            "flag_count",
            "moderated",
            "created_at",
        ],
    ),
    ("comment_flags", &["id", "comment_id", "created_at"]),
    (
        "complaints",
        &[
            "id",
            "decision_id",
            "status",
            "created_at",
            "updated_at",
            "answered_at",
        ],
    ),
    (
        "consultations",
        &[
            "id",
            "slug",
            "title",
            "summary",
            "body",
            "status",
            "moderation_mode",
            "accepts_ideas",
            "has_conversation",
            "support_threshold",
            "comment_flag_threshold",
            "allow_self_support",
            "categories",
            "opens_at",
            "closes_at",
            "published_at",
            "created_at",
            "updated_at",
            "voting_eligibility",
            "statement_max_chars",
            "eligibility",
            "min_loa",
            "min_age",
            "municipality_code",
            "new_participants_per_hour",
            "statements_version",
        ],
    ),
    (
        "consultation_follows",
        &["id", "consultation_id", "created_at"],
    ),
    (
        "email_tokens",
        &["id", "purpose", "expires_at", "used_at", "created_at"],
    ),
    (
        "ideas",
        &[
            "id",
            "consultation_id",
            "category",
            "status",
            "support_count",
            "comment_count",
            "published_at",
            "created_at",
            "updated_at",
            "duplicate_of",
        ],
    ),
    ("idea_follows", &["id", "idea_id", "created_at"]),
    (
        "idea_status_changes",
        &["id", "idea_id", "from_status", "to_status", "created_at"],
    ),
    ("idea_supports", &["id", "idea_id", "created_at"]),
    (
        "mail_outbox",
        &[
            "id",
            "kind",
            "status",
            "attempts",
            "next_attempt_at",
            "created_at",
            "sent_at",
        ],
    ),
    (
        "moderation_actions",
        &["id", "subject_type", "subject_id", "action", "created_at"],
    ),
    (
        "notifications",
        &["id", "kind", "subject_type", "subject_id", "created_at"],
    ),
    (
        "opinion_history",
        &[
            "id",
            "consultation_id",
            "snapshot_id",
            "kind",
            "computed_at",
            "participants",
            "clustered",
            "votes",
            "group_sizes",
            "stability",
        ],
    ),
    (
        "opinion_snapshots",
        &[
            "id",
            "consultation_id",
            "kind",
            "vote_high_water_mark",
            "snapshot",
            "computed_at",
        ],
    ),
    (
        "participants",
        &["id", "consultation_id", "external_id", "created_at"],
    ),
    (
        "population_figures",
        &[
            "id",
            "municipality_code",
            "age_band",
            "residents",
            "updated_at",
        ],
    ),
    (
        "rate_limits",
        &["bucket", "window_start", "count", "expires_at"],
    ),
    ("sessions", &["idle_expires_at", "absolute_expires_at"]),
    (
        "statements",
        &[
            "id",
            "consultation_id",
            "number",
            "status",
            "is_meta",
            "is_seed",
            "moderated_at",
            "created_at",
            "duplicate_of",
        ],
    ),
    ("users", &["id"]),
    (
        "votes",
        &["id", "consultation_id", "statement_id", "updated_at"],
    ),
    ("vote_history", &["id", "consultation_id", "statement_id"]),
    ("seaql_migrations", &["version", "applied_at"]),
];

/// How a column is classified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Part of the kind of personal data with this key.
    Personal(&'static str),
    NotPersonal,
}

/// Every classification of `table.column` (exactly one when the description
/// is right).
pub fn classify(table: &str, column: &str) -> Vec<Class> {
    let mut found = Vec::new();
    for category in CATEGORIES {
        for (t, columns) in category.columns {
            if *t == table && columns.contains(&column) {
                found.push(Class::Personal(category.key));
            }
        }
    }
    for (t, columns) in NOT_PERSONAL {
        if *t == table && columns.contains(&column) {
            found.push(Class::NotPersonal);
        }
    }
    found
}

/// Every (table, column) of the live schema, in order, read from the
/// database's own catalogue (SQLite's `pragma_table_info`, PostgreSQL's
/// `information_schema`).
pub async fn live_columns<C: ConnectionTrait>(db: &C) -> Result<Vec<(String, String)>, DbErr> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Sqlite => {
            "SELECT m.name AS t, p.name AS c FROM sqlite_master m \
             JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' \
             ORDER BY m.name, p.cid"
        }
        _ => {
            "SELECT table_name::text AS t, column_name::text AS c \
             FROM information_schema.columns \
             WHERE table_schema = current_schema() \
             ORDER BY table_name, ordinal_position"
        }
    };
    let rows = db
        .query_all_raw(Statement::from_string(backend, sql.to_owned()))
        .await?;
    rows.iter()
        .map(|row| {
            Ok((
                row.try_get::<String>("", "t")?,
                row.try_get::<String>("", "c")?,
            ))
        })
        .collect()
}

/// Columns of the live schema classified nowhere or more than once.
pub async fn misclassified<C: ConnectionTrait>(
    db: &C,
) -> Result<Vec<(String, String, usize)>, DbErr> {
    Ok(live_columns(db)
        .await?
        .into_iter()
        .filter_map(|(t, c)| {
            let n = classify(&t, &c).len();
            (n != 1).then_some((t, c, n))
        })
        .collect())
}
