use samskab::auth::Role;
use samskab::entities::{audit_log, user};
use samskab_tests::{TestApp, both_backends};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

async fn role_of(app: &TestApp, id: i64) -> Role {
    user::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .role
}

both_backends!(admin_changes_roles_and_it_is_logged);
async fn admin_changes_roles_and_it_is_logged(app: TestApp) {
    let admin = app.logged_in_as("admin@example.org", Role::Admin).await;
    let citizen = app.create_user("per@example.org", Role::Citizen).await;
    let (status, page) = app.page("/admin/users").await;
    assert_eq!(status, 200);
    assert!(page.body.contains("per@example.org"));

    let res = app
        .post_form(
            &format!("/admin/users/{}/role", citizen.id),
            &[("role", "politician")],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(role_of(&app, citizen.id).await, Role::Politician);
    let logged = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("user.role_changed"))
        .filter(audit_log::Column::ActorId.eq(admin.id))
        .filter(audit_log::Column::SubjectId.eq(citizen.id))
        .one(&app.db)
        .await
        .unwrap()
        .expect("audit row");
    assert_eq!(logged.detail, "citizen -> politician");

    let res = app
        .post_form(
            &format!("/admin/users/{}/role", citizen.id),
            &[("role", "emperor")],
        )
        .await;
    assert_eq!(res.status(), 400);
    assert_eq!(role_of(&app, citizen.id).await, Role::Politician);
    let res = app
        .post_form("/admin/users/999999/role", &[("role", "admin")])
        .await;
    assert_eq!(res.status(), 404);
}

both_backends!(the_last_admin_cannot_step_down);
async fn the_last_admin_cannot_step_down(app: TestApp) {
    let admin = app.logged_in_as("admin@example.org", Role::Admin).await;
    let res = app
        .post_form(
            &format!("/admin/users/{}/role", admin.id),
            &[("role", "citizen")],
        )
        .await;
    assert_eq!(res.status(), 409);
    assert!(res.text().await.unwrap().contains("sidste administrator"));
    assert_eq!(role_of(&app, admin.id).await, Role::Admin);

    let second = app.create_user("admin2@example.org", Role::Admin).await;
    let res = app
        .post_form(
            &format!("/admin/users/{}/role", admin.id),
            &[("role", "moderator")],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(role_of(&app, admin.id).await, Role::Moderator);
    assert_eq!(role_of(&app, second.id).await, Role::Admin);
    // The role change takes effect at once: the former admin is out.
    assert_eq!(app.get("/admin/users").await.status(), 403);
}

both_backends!(only_admins_manage_users);
async fn only_admins_manage_users(app: TestApp) {
    app.logged_in_as("mod@example.org", Role::Moderator).await;
    let target = app.create_user("x@example.org", Role::Citizen).await;
    assert_eq!(app.get("/admin/users").await.status(), 403);
    let res = app
        .post_form(
            &format!("/admin/users/{}/role", target.id),
            &[("role", "admin")],
        )
        .await;
    assert_eq!(res.status(), 403);
    assert_eq!(role_of(&app, target.id).await, Role::Citizen);
    let admins = user::Entity::find()
        .filter(user::Column::Role.eq("admin"))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(admins, 0);
}
