use samskab_tests::{TestApp, both_backends};

both_backends!(healthz_answers_ok);
async fn healthz_answers_ok(app: TestApp) {
    let res = app.get("/healthz").await;
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["status"], "ok");
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
