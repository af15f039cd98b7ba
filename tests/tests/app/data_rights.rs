//! A citizen's rights over their data: the record of processing covers every
//! column, the export matches the database, deletion leaves no personal datum
//! while published results stay the same, and nobody reaches another
//! person's data.

use samskab::auth::Role;
use samskab::entities::{
    audit_log, comment, comment_flag, consultation_follow, idea, idea_follow, idea_support,
    mail_outbox, notification, participant, session, statement, user, vote,
};
use samskab::services::data_inventory;
use samskab_tests::{PASSWORD, TestApp, both_backends, client, location};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter, Statement,
};
use serde_json::Value;

both_backends!(every_column_of_every_table_is_classified_in_the_inventory);
async fn every_column_of_every_table_is_classified_in_the_inventory(app: TestApp) {
    let columns = data_inventory::live_columns(&app.db).await.unwrap();
    // The catalogue really was read: the known personal columns are there.
    for (t, c) in [
        ("users", "email"),
        ("users", "oidc_subject_hash"),
        ("votes", "value"),
    ] {
        assert!(
            columns.iter().any(|(tt, cc)| tt == t && cc == c),
            "{t}.{c} in {columns:?}"
        );
    }
    assert!(columns.len() > 150, "{} columns", columns.len());
    let wrong = data_inventory::misclassified(&app.db).await.unwrap();
    assert!(
        wrong.is_empty(),
        "columns classified nowhere (0) or twice (2): add them to \
         backend/src/services/data_inventory.rs: {wrong:?}"
    );
    assert_eq!(
        data_inventory::classify("users", "email"),
        vec![data_inventory::Class::Personal("account")]
    );
    assert!(data_inventory::classify("users", "shoe_size").is_empty());
}

fn with_contacts(s: &mut samskab::configuration::Settings) {
    s.privacy.controller = Some("Aarhus Kommune".into());
    s.privacy.controller_contact = Some("Rådhuspladsen 2, 8000 Aarhus C".into());
    s.privacy.dpo_name = Some("Databeskyttelsesrådgiveren".into());
    s.privacy.dpo_email = Some("dpo@aarhus.example".into());
}

both_backends!(
    the_privacy_page_shows_the_inventory_and_who_is_responsible,
    samskab_tests::BuildOptions::default(),
    with_contacts
);
async fn the_privacy_page_shows_the_inventory_and_who_is_responsible(app: TestApp) {
    let (status, page) = app.page("/privacy").await;
    assert_eq!(status, 200);
    assert!(page.body.contains("Behandlingsoversigt"));
    for category in data_inventory::CATEGORIES {
        let css = format!("#inventory-{}", category.key);
        let text = page
            .text(&css)
            .unwrap_or_else(|| panic!("{css} on the page"));
        // Where it is stored comes from the description itself.
        for (table, columns) in category.columns {
            assert!(text.contains(table), "{css} names {table}: {text}");
            assert!(
                text.contains(columns[0]),
                "{css} names {}: {text}",
                columns[0]
            );
        }
        assert!(text.contains("Hjemmel"), "{text}");
    }
    assert!(page.body.contains("Aarhus Kommune"));
    assert!(page.body.contains("dpo@aarhus.example"));
    assert!(page.body.contains("Datatilsynet"));
    let (_, en) = app.page("/privacy?lang=en").await;
    if en.lang() == "en" {
        assert!(en.body.contains("Record of processing"));
    }
}

/// Rows of `column` in every table where it holds `needle` (as text).
async fn tables_holding(app: &TestApp, needle: &str) -> Vec<String> {
    let backend = app.db.get_database_backend();
    let mut found = Vec::new();
    for (t, c) in data_inventory::live_columns(&app.db).await.unwrap() {
        let placeholder = match backend {
            DbBackend::Postgres => "$1",
            _ => "?",
        };
        let sql = format!(
            "SELECT COUNT(*) AS n FROM \"{t}\" WHERE CAST(\"{c}\" AS TEXT) LIKE {placeholder}"
        );
        let row = app
            .db
            .query_one_raw(Statement::from_sql_and_values(
                backend,
                sql,
                [format!("%{needle}%").into()],
            ))
            .await
            .unwrap()
            .unwrap();
        let n: i64 = row.try_get("", "n").unwrap();
        if n > 0 {
            found.push(format!("{t}.{c} ({n})"));
        }
    }
    found
}

both_backends!(the_export_matches_the_database_for_a_citizen_who_did_everything);
async fn the_export_matches_the_database_for_a_citizen_who_did_everything(app: TestApp) {
    let a = app
        .citizen_who_did_everything("parken", "karen@example.org", "Karen Testesen")
        .await;
    let browser = client();
    app.login_with(&browser, "karen@example.org").await;
    let res = browser
        .get(app.url("/account/data.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let export: Value = res.json().await.unwrap();
    let id = a.user.id;
    let db = &app.db;

    let row = user::Entity::find_by_id(id).one(db).await.unwrap().unwrap();
    assert_eq!(export["account"]["id"], id);
    assert_eq!(export["account"]["email"], "karen@example.org");
    assert_eq!(export["account"]["display_name"], "Karen Testesen");
    assert_eq!(export["account"]["has_password"], true);
    assert_eq!(export["identity"]["birth_year"], 1980);
    assert_eq!(export["identity"]["municipality_code"], "0751");
    assert_eq!(export["identity"]["level_of_assurance"], "substantial");
    assert_eq!(
        export["preferences"]["mail_statements"],
        row.mail_statements
    );
    // Never the raw subject or the password hash.
    let text = export.to_string();
    assert!(!text.contains(row.oidc_subject_hash.as_deref().unwrap()));
    assert!(!text.contains(row.password_hash.as_deref().unwrap()));

    let ids = |key: &str, field: &str| -> Vec<i64> {
        export[key]
            .as_array()
            .unwrap_or_else(|| panic!("{key} is a list"))
            .iter()
            .map(|v| v[field].as_i64().unwrap())
            .collect()
    };
    let db_ideas: Vec<i64> = idea::Entity::find()
        .filter(idea::Column::AuthorId.eq(id))
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(ids("ideas", "id"), db_ideas);
    assert_eq!(db_ideas, vec![a.idea.id]);
    assert_eq!(export["ideas"][0]["title"], "Cykelsti langs åen");
    assert_eq!(export["ideas"][0]["status"], "under_review");
    assert_eq!(export["ideas"][0]["consultation"], "parken");

    let db_comments: Vec<i64> = comment::Entity::find()
        .filter(comment::Column::AuthorId.eq(id))
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(ids("comments", "id"), db_comments);
    assert_eq!(db_comments, vec![a.comment.id]);

    let db_statements: Vec<i64> = statement::Entity::find()
        .filter(statement::Column::CreatedBy.eq(id))
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(ids("statements", "id"), db_statements);
    assert_eq!(db_statements, vec![a.statement.id]);

    let supports = idea_support::Entity::find()
        .filter(idea_support::Column::UserId.eq(id))
        .all(db)
        .await
        .unwrap();
    assert_eq!(ids("supports", "idea_id"), vec![a.other_idea.id]);
    assert_eq!(supports.len(), 1);

    let participants: Vec<i64> = participant::Entity::find()
        .filter(participant::Column::UserId.eq(id))
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.id)
        .collect();
    let db_votes = vote::Entity::find()
        .filter(vote::Column::ParticipantId.is_in(participants))
        .all(db)
        .await
        .unwrap();
    assert_eq!(db_votes.len(), 2, "two seeds voted on");
    let mut voted: Vec<i64> = db_votes.iter().map(|v| v.statement_id).collect();
    voted.sort();
    let mut exported = ids("votes", "statement_id");
    exported.sort();
    assert_eq!(exported, voted);

    let flags = comment_flag::Entity::find()
        .filter(comment_flag::Column::UserId.eq(id))
        .count(db)
        .await
        .unwrap();
    assert_eq!(
        export["comment_flags"].as_array().unwrap().len() as u64,
        flags
    );
    assert_eq!(flags, 1);
    assert_eq!(
        export["followed_consultations"],
        serde_json::json!(["parken"])
    );
    let followed_ideas = idea_follow::Entity::find()
        .filter(idea_follow::Column::UserId.eq(id))
        .count(db)
        .await
        .unwrap();
    assert_eq!(
        export["followed_ideas"].as_array().unwrap().len() as u64,
        followed_ideas
    );
    let notifications = notification::Entity::find()
        .filter(notification::Column::UserId.eq(id))
        .count(db)
        .await
        .unwrap();
    assert!(notifications > 0, "the followed idea's change notified her");
    assert_eq!(
        export["notifications"].as_array().unwrap().len() as u64,
        notifications
    );
    let mails = mail_outbox::Entity::find()
        .filter(mail_outbox::Column::UserId.eq(id))
        .count(db)
        .await
        .unwrap();
    assert!(mails > 0, "her idea's change was mailed to her");
    assert_eq!(export["mails"].as_array().unwrap().len() as u64, mails);
    let audit = audit_log::Entity::find()
        .filter(
            sea_orm::Condition::any()
                .add(audit_log::Column::ActorId.eq(id))
                .add(
                    sea_orm::Condition::all()
                        .add(audit_log::Column::SubjectType.eq("user"))
                        .add(audit_log::Column::SubjectId.eq(id)),
                ),
        )
        .count(db)
        .await
        .unwrap();
    assert!(audit > 0);
    assert_eq!(export["audit"].as_array().unwrap().len() as u64, audit);

    // The readable view shows the same, with states in words.
    let (status, page) = app.page_with(&browser, "/account/data").await;
    assert_eq!(status, 200);
    assert!(
        page.text("#my-ideas")
            .unwrap()
            .contains("Cykelsti langs åen")
    );
    assert!(page.text("#my-ideas").unwrap().contains("Under behandling"));
    assert!(page.text("#my-statements").unwrap().contains("Legepladsen"));
    assert!(
        page.text("#my-counts")
            .unwrap()
            .contains("2 stemmer på udsagn")
    );
    assert!(
        page.text("#my-counts")
            .unwrap()
            .contains("1 støtte til en idé")
    );

    // The API is documented, with the export's fields.
    let doc: Value = app.get("/api/v1/openapi.json").await.json().await.unwrap();
    let export = &doc["paths"]["/api/v1/me/export"]["get"];
    assert!(export["responses"]["200"].is_object(), "{export}");
    assert!(
        doc["components"]["schemas"]["MyDataExport"]["properties"]["mails"].is_object(),
        "the export's schema names its parts"
    );
}

both_backends!(nobody_reaches_another_persons_data);
async fn nobody_reaches_another_persons_data(app: TestApp) {
    let (anna_browser, anna) = app
        .user(Role::Citizen)
        .email("anna@example.org")
        .name("Anna Andersen")
        .in_browser()
        .await;
    let (_, bo) = app
        .user(Role::Citizen)
        .email("bo@example.org")
        .name("Bo Bertelsen")
        .in_browser()
        .await;
    let res = anna_browser
        .get(app.url("/api/v1/me/export"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body = res.text().await.unwrap();
    assert!(body.contains("anna@example.org"));
    assert!(!body.contains("bo@example.org"));
    assert!(!body.contains("Bo Bertelsen"));
    // There is no way to name someone else: query strings are ignored.
    let res = anna_browser
        .get(app.url(&format!("/api/v1/me/export?user_id={}", bo.id)))
        .send()
        .await
        .unwrap();
    let body = res.text().await.unwrap();
    assert!(!body.contains("bo@example.org"));
    // The staff routes are closed to citizens.
    for path in [
        format!("/admin/data-requests/{}/export.json", bo.id),
        "/admin/data-requests?email=bo%40example.org".to_owned(),
    ] {
        let res = anna_browser.get(app.url(&path)).send().await.unwrap();
        assert_eq!(res.status(), 403, "{path}");
        let body = res.text().await.unwrap();
        assert!(!body.contains("bo@example.org"), "{path}");
    }
    let res = app
        .post_form_with(
            &anna_browser,
            &format!("/admin/data-requests/{}/delete", bo.id),
            &[("reason", "Jeg vil slette Bo")],
        )
        .await;
    assert_eq!(res.status(), 403);
    // Without a login: 401 from the API, the login page for the pages.
    let res = client()
        .get(app.url("/api/v1/me/export"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let res = client()
        .get(app.url("/account/data.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let bo_row = user::Entity::find_by_id(bo.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(bo_row.deleted_at.is_none());
    let _ = anna;
}

both_backends!(deleting_needs_the_confirmation_and_the_password);
async fn deleting_needs_the_confirmation_and_the_password(app: TestApp) {
    let (browser, u) = app
        .user(Role::Citizen)
        .email("carl@example.org")
        .in_browser()
        .await;
    let (status, page) = app.page_with(&browser, "/account/delete").await;
    assert_eq!(status, 200);
    let explained = page.text("#delete-explained").unwrap();
    assert!(explained.contains("Slettet bruger"), "{explained}");
    assert!(explained.contains("stemmer"), "{explained}");

    // No tick: refused, nothing deleted.
    let res = app
        .post_form_with(&browser, "/account/delete", &[("password", PASSWORD)])
        .await;
    assert_eq!(res.status(), 422);
    let page = samskab_tests::Page::parse(&res.text().await.unwrap());
    assert!(
        page.text("#delete-error")
            .unwrap()
            .contains("Ja, slet min konto")
    );
    // Wrong password: refused.
    let res = app
        .post_form_with(
            &browser,
            "/account/delete",
            &[("password", "forkert kodeord"), ("confirm", "on")],
        )
        .await;
    assert_eq!(res.status(), 422);
    let page = samskab_tests::Page::parse(&res.text().await.unwrap());
    assert!(page.text("#delete-error").unwrap().contains("forkert"));
    // No CSRF token: refused before anything is looked at.
    let res = browser
        .post(app.url("/account/delete"))
        .form(&[("password", PASSWORD), ("confirm", "on")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let row = user::Entity::find_by_id(u.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(row.deleted_at.is_none());
    assert_eq!(row.email.as_deref(), Some("carl@example.org"));
    assert_eq!(app.get_with(&browser, "/account").await.status(), 200);
}

/// Per statement: (agree, disagree, pass) counts.
async fn vote_counts(app: &TestApp, consultation_id: i64) -> Vec<(i64, i16, u64)> {
    let mut out = Vec::new();
    for id in app.statement_ids(consultation_id).await {
        for value in [-1i16, 0, 1] {
            let n = vote::Entity::find()
                .filter(vote::Column::StatementId.eq(id))
                .filter(vote::Column::Value.eq(value))
                .count(&app.db)
                .await
                .unwrap();
            out.push((id, value, n));
        }
    }
    out
}

/// The published open data of a consultation, without the time it was made.
async fn open_data(app: &TestApp, staff: &reqwest::Client, slug: &str) -> Value {
    let res = staff
        .get(app.url(&format!("/api/v1/consultations/{slug}/export")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let mut doc: Value = res.json().await.unwrap();
    strip_times(&mut doc);
    doc
}

/// The report as staff read it (JSON), without the time it was made.
async fn report_json(app: &TestApp, staff: &reqwest::Client, slug: &str) -> Value {
    let res = staff
        .get(app.url(&format!("/api/v1/consultations/{slug}/report")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let mut doc: Value = res.json().await.unwrap();
    strip_times(&mut doc);
    doc
}

/// Remove keys that say when a document was made (not what it says).
fn strip_times(v: &mut Value) {
    match v {
        Value::Object(map) => {
            map.retain(|k, _| !k.contains("generated") && k != "exported_at");
            map.values_mut().for_each(strip_times);
        }
        Value::Array(list) => list.iter_mut().for_each(strip_times),
        _ => {}
    }
}

both_backends!(deleting_leaves_no_personal_datum_and_published_results_stay);
async fn deleting_leaves_no_personal_datum_and_published_results_stay(app: TestApp) {
    let a = app
        .citizen_who_did_everything("parken", "karen@example.org", "Karen Testesen")
        .await;
    let hash = a.user.oidc_subject_hash.clone().unwrap();
    // Others take part too.
    app.votes(&a.consultation).participants(6).cast().await;
    let (staff_browser, _) = app.user(Role::Admin).in_browser().await;
    // The groups as published now (the background worker would compute them
    // at any moment otherwise); deleting must not make them change.
    app.recompute_snapshot(a.consultation.id).await;
    let counts_before = vote_counts(&app, a.consultation.id).await;
    let open_before = open_data(&app, &staff_browser, "parken").await;
    let report_before = report_json(&app, &staff_browser, "parken").await;
    assert_eq!(
        report_before["who_took_part"]["verified"], 1,
        "Karen logged in with MitID (born 1980, municipality 0751): {}",
        report_before["who_took_part"]
    );
    let supports_before = idea::Entity::find_by_id(a.other_idea.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .support_count;
    for needle in ["karen@example.org", "Karen Testesen", hash.as_str()] {
        assert!(
            !tables_holding(&app, needle).await.is_empty(),
            "{needle} is stored before (the search works)"
        );
    }

    let browser = client();
    app.login_with(&browser, "karen@example.org").await;
    let second = client();
    app.login_with(&second, "karen@example.org").await;
    let res = app
        .post_form_with(
            &browser,
            "/account/delete",
            &[("password", PASSWORD), ("confirm", "on")],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/account/deleted");
    let (status, page) = app.page_with(&browser, "/account/deleted").await;
    assert_eq!(status, 200);
    assert!(page.text("#account-deleted").is_some());

    // No personal datum anywhere, in any column of any table.
    for needle in ["karen@example.org", "Karen Testesen", hash.as_str()] {
        let found = tables_holding(&app, needle).await;
        assert!(found.is_empty(), "{needle} still in {found:?}");
    }
    let row = user::Entity::find_by_id(a.user.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(row.deleted_at.is_some());
    assert_eq!(row.display_name, "Slettet bruger");
    assert_eq!(
        (
            row.birth_year,
            row.municipality_code.clone(),
            row.password_hash.clone()
        ),
        (None, None, None)
    );
    for (name, n) in [
        (
            "sessions",
            session::Entity::find()
                .filter(session::Column::UserId.eq(a.user.id))
                .count(&app.db)
                .await
                .unwrap(),
        ),
        (
            "notifications",
            notification::Entity::find()
                .filter(notification::Column::UserId.eq(a.user.id))
                .count(&app.db)
                .await
                .unwrap(),
        ),
        (
            "mails",
            mail_outbox::Entity::find()
                .filter(mail_outbox::Column::UserId.eq(a.user.id))
                .count(&app.db)
                .await
                .unwrap(),
        ),
        (
            "follows",
            consultation_follow::Entity::find()
                .filter(consultation_follow::Column::UserId.eq(a.user.id))
                .count(&app.db)
                .await
                .unwrap(),
        ),
        (
            "participants",
            participant::Entity::find()
                .filter(participant::Column::UserId.eq(a.user.id))
                .count(&app.db)
                .await
                .unwrap(),
        ),
    ] {
        assert_eq!(n, 0, "{name} of the deleted account");
    }
    // Old sessions are dead, on every device.
    assert_eq!(app.get_with(&second, "/account").await.status(), 303);
    assert_eq!(app.get_with(&browser, "/account").await.status(), 303);

    // The public record: texts stay under "Slettet bruger", results identical.
    let (_, idea_page) = app.page(&format!("/ideas/{}", a.idea.id)).await;
    assert!(idea_page.body.contains("Cykelsti langs åen"));
    assert!(idea_page.body.contains("Slettet bruger"));
    assert!(!idea_page.body.contains("Karen Testesen"));
    assert_eq!(vote_counts(&app, a.consultation.id).await, counts_before);
    assert!(
        app.recompute_snapshot(a.consultation.id).await.is_none(),
        "no vote changed, so no new snapshot"
    );
    assert_eq!(open_data(&app, &staff_browser, "parken").await, open_before);
    // "Who took part" (age bands, municipality) and the cross-tabs too: the
    // unlinked participant row kept what the report counts.
    assert_eq!(
        report_json(&app, &staff_browser, "parken").await,
        report_before
    );
    let supports_after = idea::Entity::find_by_id(a.other_idea.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .support_count;
    assert_eq!(supports_after, supports_before);
    let audit = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("user.deleted"))
        .filter(audit_log::Column::SubjectId.eq(a.user.id))
        .one(&app.db)
        .await
        .unwrap()
        .expect("the deletion is in the log");
    assert!(audit.detail.contains("by_self"));

    // The address is free again.
    let res = app
        .post_form(
            "/register",
            &[
                ("display_name", "Karen Igen"),
                ("email", "karen@example.org"),
                ("password", "et langt kodeord"),
                ("password_confirm", "et langt kodeord"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let again = user::Entity::find()
        .filter(user::Column::Email.eq("karen@example.org"))
        .one(&app.db)
        .await
        .unwrap()
        .expect("a new account with the same address");
    assert_ne!(again.id, a.user.id);
}

both_backends!(deleting_the_texts_too_empties_ideas_and_comments);
async fn deleting_the_texts_too_empties_ideas_and_comments(app: TestApp) {
    let a = app
        .citizen_who_did_everything("torvet", "dorte@example.org", "Dorte Damgaard")
        .await;
    let browser = client();
    app.login_with(&browser, "dorte@example.org").await;
    let res = app
        .post_form_with(
            &browser,
            "/account/delete",
            &[
                ("password", PASSWORD),
                ("confirm", "on"),
                ("delete_texts", "on"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let i = idea::Entity::find_by_id(a.idea.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(!i.title.contains("Cykelsti"));
    assert_eq!(i.body, "");
    let c = comment::Entity::find_by_id(a.comment.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.body, "");
    assert_eq!(c.status.as_str(), "deleted");
    // Someone else's reply to it is untouched.
    let replies = comment::Entity::find()
        .filter(comment::Column::ParentId.eq(a.comment.id))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(replies.len(), 1);
    assert_eq!(replies[0].body, "Det gør kommunen.");
    let (_, page) = app.page(&format!("/ideas/{}", a.other_idea.id)).await;
    assert!(!page.body.contains("hvem vander dem"));
}

both_backends!(staff_export_and_delete_on_request_with_a_reason);
async fn staff_export_and_delete_on_request_with_a_reason(app: TestApp) {
    let a = app
        .citizen_who_did_everything("haven", "erik@example.org", "Erik Eriksen")
        .await;
    let citizen = client();
    app.login_with(&citizen, "erik@example.org").await;
    let (admin_browser, admin) = app.user(Role::Admin).in_browser().await;

    let (status, page) = app
        .page_with(
            &admin_browser,
            "/admin/data-requests?email=ERIK%40example.org",
        )
        .await;
    assert_eq!(status, 200);
    assert!(
        page.text("#found-user")
            .unwrap()
            .contains("erik@example.org")
    );
    let (status, page) = app
        .page_with(
            &admin_browser,
            "/admin/data-requests?email=nobody%40example.org",
        )
        .await;
    assert_eq!(status, 200);
    assert!(page.text("#not-found").is_some());

    let res = admin_browser
        .get(app.url(&format!("/admin/data-requests/{}/export.json", a.user.id)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let export: Value = res.json().await.unwrap();
    assert_eq!(export["account"]["email"], "erik@example.org");
    assert_eq!(export["ideas"][0]["id"], a.idea.id);
    let logged = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("user.exported"))
        .filter(audit_log::Column::ActorId.eq(admin.id))
        .filter(audit_log::Column::SubjectId.eq(a.user.id))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(logged, 1);

    // No reason: refused next to the field, nothing deleted.
    let path = format!("/admin/data-requests/{}/delete", a.user.id);
    let res = app
        .post_form_with(
            &admin_browser,
            &path,
            &[("reason", " "), ("email", "erik@example.org")],
        )
        .await;
    assert_eq!(res.status(), 422);
    let page = samskab_tests::Page::parse(&res.text().await.unwrap());
    assert!(page.text("#reason-error").is_some());
    let row = user::Entity::find_by_id(a.user.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(row.deleted_at.is_none());

    let res = app
        .post_form_with(
            &admin_browser,
            &path,
            &[("reason", "Brev modtaget 3. december 2026")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let row = user::Entity::find_by_id(a.user.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(row.deleted_at.is_some());
    assert!(row.email.is_none());
    let entry = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("user.deleted"))
        .filter(audit_log::Column::SubjectId.eq(a.user.id))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(entry.actor_id, Some(admin.id));
    assert!(entry.detail.contains("Brev modtaget 3. december 2026"));
    assert!(tables_holding(&app, "erik@example.org").await.is_empty());
    // The citizen's session ended with it.
    assert_eq!(app.get_with(&citizen, "/account").await.status(), 303);
    // A second deletion of the same account finds nothing.
    let res = app
        .post_form_with(
            &admin_browser,
            &path,
            &[("reason", "Brev modtaget 3. december 2026")],
        )
        .await;
    assert_eq!(res.status(), 404);
}

// ------------------------------------------------------------ retention

use samskab::entities::email_token;
use samskab::jobs::housekeeping::{self, Task};
use sea_orm::{ActiveModelTrait, IntoActiveModel, Set};

fn done(report: &[(Task, u64)], task: Task) -> u64 {
    report
        .iter()
        .find(|(t, _)| *t == task)
        .map(|(_, n)| *n)
        .unwrap_or_else(|| panic!("{task:?} ran: {report:?}"))
}

both_backends!(retention_removes_unverified_accounts_expired_links_and_sent_mail_content);
async fn retention_removes_unverified_accounts_expired_links_and_sent_mail_content(app: TestApp) {
    let settings = app.settings.retention.clone();
    assert_eq!(settings.unverified_days, 7);
    let now = chrono::Utc::now();
    let unverified = app
        .user(Role::Citizen)
        .email("ny@example.org")
        .unverified()
        .create()
        .await;
    let verified = app.user(Role::Citizen).create().await;
    let tokens = email_token::Entity::find()
        .filter(email_token::Column::UserId.eq(unverified.id))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(tokens, 1, "registration issued a verification link");
    // The verification mail went out: its content goes, its row stays.
    let mail = mail_outbox::Entity::find()
        .filter(mail_outbox::Column::UserId.eq(unverified.id))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let idea_mail_user = app.user(Role::Citizen).create().await;
    samskab::services::mail::enqueue(
        &app.db,
        idea_mail_user.id,
        samskab::domain::MailKind::IdeaStatus,
        &serde_json::json!({ "title": "Cykelsti", "status": "answered", "idea_id": 1 }),
    )
    .await
    .unwrap();
    let sent = mail_outbox::Entity::find()
        .filter(mail_outbox::Column::UserId.eq(idea_mail_user.id))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let mut active = sent.clone().into_active_model();
    active.status = Set(samskab::domain::MailStatus::Sent);
    active.sent_at = Set(Some(now));
    active.update(&app.db).await.unwrap();
    let _ = mail;

    // Today: nothing of that is due; the sent mail's content goes.
    let report = housekeeping::run_once(&app.db, &settings, now).await;
    assert_eq!(done(&report, Task::UnverifiedAccounts), 0);
    assert_eq!(done(&report, Task::ExpiredTokens), 0);
    assert_eq!(done(&report, Task::SentMailBodies), 1);
    let sent = mail_outbox::Entity::find_by_id(sent.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(sent.data, "{}");
    assert_eq!(sent.status, samskab::domain::MailStatus::Sent);

    // Three days on: the two-day link has expired, the account is kept.
    let report = housekeeping::run_once(&app.db, &settings, now + chrono::Duration::days(3)).await;
    assert_eq!(done(&report, Task::ExpiredTokens), 1);
    assert_eq!(done(&report, Task::UnverifiedAccounts), 0);
    assert_eq!(done(&report, Task::SentMailBodies), 0, "cleared once");
    let row = user::Entity::find_by_id(unverified.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(row.deleted_at.is_none());

    // Eight days on: the unconfirmed account is deleted, the confirmed one stays.
    let later = now + chrono::Duration::days(8);
    let report = housekeeping::run_once(&app.db, &settings, later).await;
    assert_eq!(done(&report, Task::UnverifiedAccounts), 1);
    let row = user::Entity::find_by_id(unverified.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(row.deleted_at.is_some());
    assert!(row.email.is_none());
    let row = user::Entity::find_by_id(verified.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(row.deleted_at.is_none());
    assert!(tables_holding(&app, "ny@example.org").await.is_empty());
    // Again: nothing left to do.
    let report = housekeeping::run_once(&app.db, &settings, later).await;
    assert_eq!(done(&report, Task::UnverifiedAccounts), 0);
    let deletions = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("user.deleted"))
        .filter(audit_log::Column::SubjectId.eq(unverified.id))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(deletions, 1);
}

async fn away_since(app: &TestApp, id: i64, at: chrono::DateTime<chrono::Utc>) {
    let row = user::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let mut active = row.into_active_model();
    active.last_login_at = Set(Some(at));
    active.created_at = Set(at);
    active.update(&app.db).await.unwrap();
}

async fn warnings(app: &TestApp, id: i64) -> u64 {
    mail_outbox::Entity::find()
        .filter(mail_outbox::Column::UserId.eq(id))
        .filter(mail_outbox::Column::Kind.eq(samskab::domain::MailKind::InactiveAccount))
        .count(&app.db)
        .await
        .unwrap()
}

both_backends!(inactive_citizens_are_warned_once_and_deleted_unless_they_come_back);
async fn inactive_citizens_are_warned_once_and_deleted_unless_they_come_back(app: TestApp) {
    let settings = app.settings.retention.clone();
    let now = chrono::Utc::now();
    let four_years_ago = now - chrono::Duration::days(4 * 365);
    let gone = app
        .user(Role::Citizen)
        .email("vaek@example.org")
        .create()
        .await;
    let back = app
        .user(Role::Citizen)
        .email("tilbage@example.org")
        .create()
        .await;
    let staff = app.user(Role::Moderator).create().await;
    let recent = app.user(Role::Citizen).create().await;
    for id in [gone.id, back.id, staff.id] {
        away_since(&app, id, four_years_ago).await;
    }

    // Two replicas at the same moment: each citizen is warned once.
    let (a, b) = tokio::join!(
        housekeeping::run_once(&app.db, &settings, now),
        housekeeping::run_once(&app.db, &settings, now)
    );
    assert_eq!(
        done(&a, Task::WarnInactive) + done(&b, Task::WarnInactive),
        2
    );
    assert_eq!(warnings(&app, gone.id).await, 1);
    assert_eq!(warnings(&app, back.id).await, 1);
    assert_eq!(
        warnings(&app, staff.id).await,
        0,
        "staff accounts are left to admins"
    );
    assert_eq!(warnings(&app, recent.id).await, 0);
    let report = housekeeping::run_once(&app.db, &settings, now + chrono::Duration::days(1)).await;
    assert_eq!(done(&report, Task::WarnInactive), 0);
    assert_eq!(done(&report, Task::DeleteInactive), 0, "within the 30 days");

    // One of them logs in: the warning no longer holds.
    let browser = client();
    app.login_with(&browser, "tilbage@example.org").await;
    let row = user::Entity::find_by_id(back.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(row.inactivity_warned_at.is_none());

    let later = now + chrono::Duration::days(31);
    let report = housekeeping::run_once(&app.db, &settings, later).await;
    assert_eq!(done(&report, Task::DeleteInactive), 1);
    let row = user::Entity::find_by_id(gone.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(row.deleted_at.is_some());
    assert!(row.email.is_none());
    for id in [back.id, staff.id, recent.id] {
        let row = user::Entity::find_by_id(id)
            .one(&app.db)
            .await
            .unwrap()
            .unwrap();
        assert!(row.deleted_at.is_none(), "user {id} kept");
    }
    // Switched off: nobody is warned or deleted.
    let off = samskab::configuration::RetentionSettings {
        inactive_days: 0,
        unverified_days: 0,
        ..settings
    };
    away_since(&app, recent.id, four_years_ago).await;
    let report = housekeeping::run_once(&app.db, &off, later).await;
    assert_eq!(done(&report, Task::WarnInactive), 0);
    assert_eq!(warnings(&app, recent.id).await, 0);
}

both_backends!(my_data_shows_my_opinion_group_and_my_place_on_the_map);
async fn my_data_shows_my_opinion_group_and_my_place_on_the_map(app: TestApp) {
    use samskab::opinion::VoteValue;
    let staff = app.user(Role::Moderator).actor().await;
    let c = app
        .consultation()
        .slug("kortet")
        .conversation()
        .seeds(&[
            "Mere grønt",
            "Flere p-pladser",
            "Lavere fart",
            "Større veje",
        ])
        .by(&staff)
        .open()
        .create()
        .await;
    let ids = app.statement_ids(c.id).await;
    app.conversation_with_votes(&c, &ids, 24).await;
    let (browser, u) = app.user(Role::Citizen).in_browser().await;
    let me = samskab_tests::visitor(&samskab::auth::session::CurrentUser::from_model(&u));
    for (j, id) in ids.iter().enumerate() {
        let value = if j % 2 == 0 {
            VoteValue::Agree
        } else {
            VoteValue::Disagree
        };
        app.vote_as(&c, &me, *id, value).await;
    }
    app.recompute_snapshot(c.id).await;
    let (_, snap) = app.latest_snapshot(c.id).await.unwrap();
    let mine = participant::Entity::find()
        .filter(participant::Column::UserId.eq(u.id))
        .one(&app.db)
        .await
        .unwrap()
        .expect("voting made me a participant");
    let my_group = snap
        .participants
        .get(&mine.id)
        .and_then(|r| r.group)
        .filter(|_| snap.k >= 2);

    let (status, page) = app.page_with(&browser, "/account/data").await;
    assert_eq!(status, 200);
    let text = page.text("#my-groups").unwrap();
    // The words follow the published snapshot (two camps nearly always split).
    match my_group {
        Some(g) => {
            let name = samskab::services::snapshots::group_name(g);
            assert!(
                text.contains(&format!("Du er i gruppe {name} af {} grupper", snap.k)),
                "{text}"
            );
        }
        None => assert!(text.contains("ikke placeret"), "{text}"),
    }
    assert!(text.contains("Her står du"), "{text}");
    assert_eq!(page.texts("#my-groups svg circle.me").len(), 1);
    assert_eq!(
        page.texts("#my-groups svg circle.dot").len(),
        snap.participants.len()
    );
    // Someone who did not vote has no map.
    let (other, _) = app.user(Role::Citizen).in_browser().await;
    let (_, page) = app.page_with(&other, "/account/data").await;
    assert!(page.text("#my-groups").is_none());
}

#[test]
fn a_mitid_login_confirms_a_deletion_for_five_minutes() {
    use samskab::services::data_rights::fresh_identity_login;
    let now = chrono::Utc::now();
    let ago = |s: i64| Some(now - chrono::Duration::seconds(s));
    assert!(fresh_identity_login(ago(0), now));
    assert!(fresh_identity_login(ago(4 * 60 + 59), now));
    assert!(!fresh_identity_login(ago(5 * 60 + 1), now));
    assert!(!fresh_identity_login(ago(-60), now), "not from the future");
    assert!(!fresh_identity_login(None, now));
}

/// A MitID-only account (no password) deletes itself right after a MitID
/// login; the same MitID can then start a new account.
async fn a_mitid_only_account_is_deleted_after_a_fresh_login(backend: samskab_tests::Backend) {
    let test = "a_mitid_only_account_is_deleted_after_a_fresh_login";
    let Some(issuer) = samskab_tests::oidc_issuer(test) else {
        return;
    };
    let Some(app) = TestApp::spawn_configured(
        backend,
        samskab_tests::BuildOptions::default(),
        samskab_tests::with_test_oidc(&issuer),
    )
    .await
    .expect("spawning the app") else {
        samskab_tests::report_postgres_skipped(test);
        return;
    };
    let browser = client();
    app.mitid_login(&browser, "slet-mitid", "Mette Mitid").await;
    let u = user::Entity::find()
        .filter(user::Column::DisplayName.eq("Mette Mitid"))
        .one(&app.db)
        .await
        .unwrap()
        .expect("the MitID account");
    assert!(u.password_hash.is_none());
    let hash = u.oidc_subject_hash.clone().unwrap();
    let (status, page) = app.page_with(&browser, "/account/delete").await;
    assert_eq!(status, 200);
    assert!(page.text("#delete-form input[name=password]").is_none());
    assert!(page.body.contains("lige logget ind med MitID"));
    let res = app
        .post_form_with(&browser, "/account/delete", &[("confirm", "on")])
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/account/deleted");
    let row = user::Entity::find_by_id(u.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(row.deleted_at.is_some());
    assert!(tables_holding(&app, &hash).await.is_empty());
    // The same MitID is a new person to Samskab now.
    let again = client();
    app.mitid_login(&again, "slet-mitid", "Mette Igen").await;
    let new = user::Entity::find()
        .filter(user::Column::DisplayName.eq("Mette Igen"))
        .one(&app.db)
        .await
        .unwrap()
        .expect("a new account");
    assert_ne!(new.id, u.id);
}

mod a_mitid_only_account_is_deleted_after_a_fresh_login {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::a_mitid_only_account_is_deleted_after_a_fresh_login(samskab_tests::Backend::Sqlite)
            .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::a_mitid_only_account_is_deleted_after_a_fresh_login(
            samskab_tests::Backend::Postgres,
        )
        .await;
    }
}
