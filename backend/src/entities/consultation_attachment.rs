use sea_orm::entity::prelude::*;

/// Material attached to a consultation: a file (bytes in `data`) or a link
/// (`url`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "consultation_attachments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub consultation_id: i64,
    pub title: String,
    pub file_name: Option<String>,
    pub content_type: Option<String>,
    pub size_bytes: Option<i64>,
    #[sea_orm(column_type = "Blob", nullable)]
    pub data: Option<Vec<u8>>,
    pub url: Option<String>,
    pub alt_text: Option<String>,
    pub created_by: Option<i64>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
