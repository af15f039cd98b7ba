//! Material attached to a consultation: files (PDF and images) stored in the
//! database, so both SQLite and PostgreSQL installations need no external
//! storage, and links. The type of a file is read from its first bytes, not
//! from what the browser or the file name claims; a file whose claims and
//! content disagree is refused, as is anything that is not a PDF or an image.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use crate::auth::session::CurrentUser;
use crate::entities::consultation_attachment as attachment;
use crate::errors::{AppError, FieldError};

use super::consultations::{Status, get_for_staff, get_visible, require_staff};
use super::{audit, clean_text, now};

pub const TITLE_MAX: usize = 200;
pub const ALT_MAX: usize = 300;
pub const URL_MAX: usize = 500;
pub const FILE_NAME_MAX: usize = 200;

/// The types staff may upload: (MIME type, file name extensions, is an image).
const ALLOWED: [(&str, &[&str], bool); 4] = [
    ("application/pdf", &["pdf"], false),
    ("image/png", &["png"], true),
    ("image/jpeg", &["jpg", "jpeg"], true),
    ("image/webp", &["webp"], true),
];

/// An upload as the handler read it.
#[derive(Debug, Default)]
pub struct Upload {
    pub title: String,
    pub alt_text: String,
    pub url: String,
    pub file_name: String,
    /// The Content-Type the browser sent with the file part.
    pub declared_type: Option<String>,
    pub data: Vec<u8>,
    /// The file was larger than the limit (and was not read to the end).
    pub too_large: bool,
}

fn field_error(field: &'static str, key: &'static str) -> AppError {
    AppError::Validation(vec![FieldError { field, key }])
}

/// The real type of `data`, if it is one staff may upload, checked against
/// the file name's extension and the declared type.
pub fn check_type(
    data: &[u8],
    file_name: &str,
    declared: Option<&str>,
) -> Result<(&'static str, bool), &'static str> {
    let detected = infer::get(data).map(|t| t.mime_type());
    let Some((mime, extensions, image)) = ALLOWED
        .iter()
        .find(|(m, _, _)| Some(*m) == detected)
        .copied()
    else {
        return Err("deadlines.errors.attachment_type");
    };
    let extension = file_name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    if !extensions.contains(&extension.as_str()) {
        return Err("deadlines.errors.attachment_spoofed");
    }
    // Browsers send `application/octet-stream` when they do not know; a
    // specific type that disagrees with the content is a spoof.
    if let Some(d) = declared
        && d != "application/octet-stream"
        && d.split(';').next().map(str::trim) != Some(mime)
    {
        return Err("deadlines.errors.attachment_spoofed");
    }
    Ok((mime, image))
}

/// Staff attach a file or a link. Nothing is stored unless all of it is valid.
pub async fn add(
    db: &DatabaseConnection,
    actor: &CurrentUser,
    slug: &str,
    upload: Upload,
    max_bytes: usize,
) -> Result<attachment::Model, AppError> {
    require_staff(actor)?;
    let c = get_for_staff(db, actor, slug).await?;
    if c.status == Status::Archived {
        return Err(AppError::Conflict("errors.consultation_archived"));
    }
    let title = clean_text(&upload.title, TITLE_MAX).map_err(|k| field_error("title", k))?;
    if title.is_empty() || title.contains('\n') {
        return Err(field_error("title", "required"));
    }
    let alt = clean_text(&upload.alt_text, ALT_MAX).map_err(|k| field_error("alt_text", k))?;
    let url = upload.url.trim();
    let has_file = !upload.data.is_empty() || upload.too_large;
    let mut row = attachment::ActiveModel {
        consultation_id: Set(c.id),
        title: Set(title),
        created_by: Set(Some(actor.id)),
        created_at: Set(now()),
        ..Default::default()
    };
    match (has_file, url.is_empty()) {
        (true, false) | (false, true) => {
            return Err(field_error(
                "file",
                "deadlines.errors.attachment_file_or_link",
            ));
        }
        (false, false) => {
            let parsed = url::Url::parse(url)
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https") && url.len() <= URL_MAX)
                .ok_or_else(|| field_error("url", "deadlines.errors.url_invalid"))?;
            row.url = Set(Some(parsed.to_string()));
        }
        (true, true) => {
            if upload.too_large || upload.data.len() > max_bytes {
                return Err(field_error("file", "deadlines.errors.attachment_too_large"));
            }
            let file_name = clean_text(&upload.file_name, FILE_NAME_MAX)
                .ok()
                .map(|n| n.replace(['/', '\\', '\n', '"'], "_"))
                .filter(|n| !n.is_empty())
                .ok_or_else(|| field_error("file", "deadlines.errors.attachment_type"))?;
            let (mime, image) =
                check_type(&upload.data, &file_name, upload.declared_type.as_deref())
                    .map_err(|k| field_error("file", k))?;
            if image && alt.is_empty() {
                return Err(field_error("alt_text", "deadlines.errors.alt_required"));
            }
            row.file_name = Set(Some(file_name));
            row.content_type = Set(Some(mime.to_owned()));
            row.size_bytes = Set(Some(upload.data.len() as i64));
            row.alt_text = Set((!alt.is_empty()).then_some(alt));
            row.data = Set(Some(upload.data));
        }
    }
    let saved = row.insert(db).await?;
    audit::record(
        db,
        Some(actor.id),
        "consultation.attachment_added",
        "consultation",
        Some(c.id),
        &saved.title,
    )
    .await?;
    Ok(saved)
}

pub async fn remove(
    db: &DatabaseConnection,
    actor: &CurrentUser,
    slug: &str,
    id: i64,
) -> Result<(), AppError> {
    let c = get_for_staff(db, actor, slug).await?;
    let res = attachment::Entity::delete_many()
        .filter(attachment::Column::Id.eq(id))
        .filter(attachment::Column::ConsultationId.eq(c.id))
        .exec(db)
        .await?;
    if res.rows_affected == 0 {
        return Err(AppError::NotFound);
    }
    audit::record(
        db,
        Some(actor.id),
        "consultation.attachment_removed",
        "consultation",
        Some(c.id),
        &id.to_string(),
    )
    .await?;
    Ok(())
}

/// id, title, file name, content type, size, url, alt text, created at.
type ListedRow = (
    i64,
    String,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<String>,
    chrono::DateTime<chrono::Utc>,
);

/// A consultation's material without the bytes, oldest first.
pub async fn list(
    db: &DatabaseConnection,
    consultation_id: i64,
) -> Result<Vec<attachment::Model>, AppError> {
    let rows: Vec<ListedRow> = attachment::Entity::find()
        .select_only()
        .column(attachment::Column::Id)
        .column(attachment::Column::Title)
        .column(attachment::Column::FileName)
        .column(attachment::Column::ContentType)
        .column(attachment::Column::SizeBytes)
        .column(attachment::Column::Url)
        .column(attachment::Column::AltText)
        .column(attachment::Column::CreatedAt)
        .filter(attachment::Column::ConsultationId.eq(consultation_id))
        .order_by_asc(attachment::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(
            |(id, title, file_name, content_type, size_bytes, url, alt_text, created_at)| {
                attachment::Model {
                    id,
                    consultation_id,
                    title,
                    file_name,
                    content_type,
                    size_bytes,
                    data: None,
                    url,
                    alt_text,
                    created_by: None,
                    created_at,
                }
            },
        )
        .collect())
}

/// One stored file of a consultation `viewer` may see.
pub async fn file(
    db: &DatabaseConnection,
    viewer: Option<&CurrentUser>,
    slug: &str,
    id: i64,
) -> Result<attachment::Model, AppError> {
    let c = get_visible(db, viewer, slug).await?;
    attachment::Entity::find_by_id(id)
        .filter(attachment::Column::ConsultationId.eq(c.id))
        .one(db)
        .await?
        .filter(|a| a.data.is_some())
        .ok_or(AppError::NotFound)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PDF: &[u8] = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n";
    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0";

    #[test]
    fn the_content_decides_the_type() {
        assert_eq!(
            check_type(PDF, "plan.pdf", Some("application/pdf")),
            Ok(("application/pdf", false))
        );
        assert_eq!(check_type(PNG, "kort.PNG", None), Ok(("image/png", true)));
        assert_eq!(
            check_type(PNG, "kort.png", Some("application/octet-stream")),
            Ok(("image/png", true))
        );
    }

    #[test]
    fn spoofed_and_unknown_types_are_refused() {
        // HTML named and declared as a PDF.
        assert_eq!(
            check_type(b"<html><script>", "plan.pdf", Some("application/pdf")),
            Err("deadlines.errors.attachment_type")
        );
        // A PNG named as a PDF, or declared as one.
        assert_eq!(
            check_type(PNG, "plan.pdf", None),
            Err("deadlines.errors.attachment_spoofed")
        );
        assert_eq!(
            check_type(PNG, "kort.png", Some("application/pdf")),
            Err("deadlines.errors.attachment_spoofed")
        );
        // A real but forbidden type (a ZIP archive).
        assert_eq!(
            check_type(b"PK\x03\x04\x14\0\0\0", "a.zip", None),
            Err("deadlines.errors.attachment_type")
        );
    }
}
