use samskab_tests::{TestApp, both_backends};

both_backends!(healthz_answers_ok);
async fn healthz_answers_ok(app: TestApp) {
    let res = app.get("/healthz").await;
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    // Which build answers: during a rolling upgrade every replica shows its own.
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(body["commit"], samskab::build_info::COMMIT);
    let commit = samskab::build_info::COMMIT;
    assert!(
        commit == "unknown"
            || (commit.len() == 40 && commit.chars().all(|c| c.is_ascii_hexdigit())),
        "{commit}"
    );
    if let Some(head) = git_head() {
        assert_eq!(commit, head, "built from the checked-out commit");
    }
}

/// HEAD of the checkout the tests run in, when it is one and no
/// `SAMSKAB_GIT_COMMIT` overrides what the build records.
pub fn git_head() -> Option<String> {
    if std::env::var_os("SAMSKAB_GIT_COMMIT").is_some() {
        return None;
    }
    let out = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

both_backends!(readyz_reports_database_and_migrations);
async fn readyz_reports_database_and_migrations(app: TestApp) {
    let res = app.get("/readyz").await;
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    assert_eq!(body["database"], "ok");
}

both_backends!(readyz_fails_when_the_database_is_gone);
async fn readyz_fails_when_the_database_is_gone(app: TestApp) {
    app.db.clone().close().await.unwrap();
    let res = app.get("/readyz").await;
    assert_eq!(res.status(), 503);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["status"], "unavailable");
}

both_backends!(replicas_starting_together_migrate_once);
async fn replicas_starting_together_migrate_once(app: TestApp) {
    // Three more "replicas" start on the same database at the same moment.
    let settings = app.settings.clone();
    let starts = (0..3).map(|_| {
        let s = settings.clone();
        async move {
            let db = samskab::db::connect(&s).await?;
            samskab::db::migrate(&db).await?;
            samskab::db::is_ready(&db).await.map_err(anyhow::Error::msg)
        }
    });
    for result in futures::future::join_all(starts).await {
        result.expect("every replica starts");
    }
    assert_eq!(app.get("/readyz").await.status(), 200);
}
