//! What every request handler shares.

use sea_orm::DatabaseConnection;
use std::sync::Arc;

use crate::configuration::Settings;
use crate::i18n::Catalogs;
use crate::services::rate_limits::Limits;
use crate::views::Views;

#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub views: Arc<Views>,
    pub catalogs: Arc<Catalogs>,
    pub settings: Arc<Settings>,
    /// Rate limits (kept in the database) and how clients are told apart.
    pub limits: Arc<Limits>,
    /// OpenID providers' discovery documents and keys, fetched once.
    pub oidc_metadata: Arc<crate::services::oidc::MetadataCache>,
}

impl AppState {
    /// What the mail service needs, without the rest of the server's state.
    pub fn mail_context(&self) -> crate::services::mail::MailContext {
        crate::services::mail::MailContext {
            db: self.db.clone(),
            views: self.views.clone(),
            catalogs: self.catalogs.clone(),
            settings: self.settings.clone(),
        }
    }
}
