//! HTTP routes. Handlers are thin: parse the request, call a service, render a
//! page or redirect.

pub mod account;
pub mod admin;
pub mod api;
pub mod api_deliberation;
pub mod assets;
pub mod auth;
pub mod context;
pub mod deliberation;
pub mod export;
pub mod health;
pub mod ideas;
pub mod mail;
pub mod middleware;
pub mod oidc;
pub mod pages;
pub mod report;
pub mod staff;
pub mod views;

use actix_web::{HttpResponse, http::header, web};

use crate::errors::AppError;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(health::healthz)
        .service(health::readyz)
        .service(assets::static_file)
        .service(pages::home)
        .service(pages::consultation_list)
        .service(pages::consultation)
        .service(pages::follow)
        .service(pages::unfollow)
        .service(pages::privacy)
        .service(auth::login_form)
        .service(auth::login)
        .service(auth::register_form)
        .service(auth::register)
        .service(auth::logout)
        .service(auth::verify_email)
        .service(auth::resend_verification)
        .service(auth::forgot_form)
        .service(auth::forgot)
        .service(auth::reset_form)
        .service(auth::reset)
        .service(oidc::start)
        .service(oidc::callback)
        .service(oidc::welcome_form)
        .service(oidc::welcome)
        .service(mail::unsubscribe_form)
        .service(mail::unsubscribe)
        .service(account::show)
        .service(account::update)
        .service(account::preferences)
        .service(account::save_preferences)
        .service(staff::list)
        .service(staff::new_form)
        .service(staff::create)
        .service(staff::edit_form)
        .service(staff::update)
        .service(staff::transition)
        .service(admin::user_list)
        .service(admin::change_role)
        .service(ideas::idea_list)
        .service(ideas::new_form)
        .service(ideas::create)
        .service(ideas::show)
        .service(ideas::edit_form)
        .service(ideas::update)
        .service(ideas::withdraw)
        .service(ideas::support_idea)
        .service(ideas::unsupport)
        .service(ideas::follow)
        .service(ideas::unfollow)
        .service(ideas::change_status)
        .service(ideas::create_comment)
        .service(ideas::comment_edit_form)
        .service(ideas::comment_edit)
        .service(ideas::comment_delete)
        .service(ideas::flag_form)
        .service(ideas::flag_comment)
        .service(ideas::moderate_form)
        .service(ideas::moderate_comment)
        .service(ideas::staff_dashboard)
        .service(ideas::notification_list)
        .service(ideas::notifications_read)
        .service(api::openapi_document)
        .service(api::consultation_list)
        .service(api::consultation_detail)
        .service(api::idea_list)
        .service(api::idea_detail)
        // Deliberation. `statements/all` before the `{id}` routes.
        .service(deliberation::list)
        .service(deliberation::show)
        .service(deliberation::vote)
        .service(deliberation::create)
        .service(deliberation::moderation)
        .service(deliberation::add_seed)
        .service(deliberation::moderate)
        .service(api_deliberation::list)
        .service(api_deliberation::show)
        // Open data.
        .service(export::download)
        .service(export::api_export)
        .service(export::open_data)
        .service(report::show)
        .service(report::api)
        .service(report::population_form)
        .service(report::population_save)
        .default_service(web::to(not_found));
}

async fn not_found(_ctx: context::Ctx) -> Result<HttpResponse, AppError> {
    Err(AppError::NotFound)
}

/// 303 See Other: the browser follows with a GET, so a reload never re-posts.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}
