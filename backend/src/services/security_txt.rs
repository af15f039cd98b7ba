//! `/.well-known/security.txt` (RFC 9116): where to report a vulnerability in
//! this installation. Built from `SAMSKAB_SECURITY_TXT__*`; every field has a
//! default so a fresh installation still points reporters somewhere real: the
//! Samskab project's security policy, whose maintainers coordinate a fix with
//! the municipalities that run it.

use chrono::{DateTime, Duration, SecondsFormat, Utc};

use crate::build_info;
use crate::configuration::Settings;

/// Languages the default contact (the Samskab maintainers) reads.
pub const DEFAULT_LANGUAGES: &str = "da, en";

/// Without a configured `Expires` the file is generated, not hand-written, so
/// it cannot go stale the way RFC 9116 guards against: it is valid for this
/// many days from each response (the RFC asks for less than a year).
pub const DEFAULT_VALIDITY_DAYS: i64 = 30;

/// The project's security policy, the default `Contact` and `Policy`.
pub fn project_policy_url() -> String {
    format!("{}/blob/main/SECURITY.md", build_info::REPOSITORY)
}

/// A checked security.txt, ready to render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityTxt {
    contacts: Vec<String>,
    expires: Option<DateTime<Utc>>,
    languages: String,
    policy: String,
    encryption: Option<String>,
    canonical: Option<String>,
}

impl SecurityTxt {
    /// Checks the settings; the error names the variable to fix. Start-up
    /// calls this, so a bad value stops the server rather than publishing a
    /// file reporters cannot use.
    pub fn from_settings(settings: &Settings) -> Result<SecurityTxt, String> {
        let s = &settings.security_txt;
        let contacts: Vec<String> = match non_empty(s.contact.as_deref()) {
            Some(list) => list.split_whitespace().map(str::to_owned).collect(),
            None => vec![project_policy_url()],
        };
        for contact in &contacts {
            let scheme_ok = ["mailto:", "https://", "tel:"]
                .iter()
                .any(|scheme| contact.starts_with(scheme) && contact.len() > scheme.len());
            if !scheme_ok || has_control(contact) {
                return Err(format!(
                    "SAMSKAB_SECURITY_TXT__CONTACT: `{contact}` is not a mailto:, https:// or tel: URI"
                ));
            }
        }
        let expires = match non_empty(s.expires.as_deref()) {
            Some(text) => Some(
                DateTime::parse_from_rfc3339(text)
                    .map_err(|_| {
                        format!(
                            "SAMSKAB_SECURITY_TXT__EXPIRES: `{text}` is not an RFC 3339 time \
                             such as 2027-06-30T00:00:00Z"
                        )
                    })?
                    .with_timezone(&Utc),
            ),
            None => None,
        };
        let languages = non_empty(s.preferred_languages.as_deref()).unwrap_or(DEFAULT_LANGUAGES);
        let tags: Vec<&str> = languages.split(',').map(str::trim).collect();
        if tags.iter().any(|tag| !is_language_tag(tag)) {
            return Err(format!(
                "SAMSKAB_SECURITY_TXT__PREFERRED_LANGUAGES: `{languages}` is not a comma-separated \
                 list of language tags such as `da, en`"
            ));
        }
        let policy = match non_empty(s.policy.as_deref()) {
            Some(url) => https_url("SAMSKAB_SECURITY_TXT__POLICY", url)?,
            None => project_policy_url(),
        };
        let encryption = non_empty(s.encryption.as_deref())
            .map(|url| https_url("SAMSKAB_SECURITY_TXT__ENCRYPTION", url))
            .transpose()?;
        let canonical = non_empty(settings.public_url.as_deref())
            .filter(|url| url.starts_with("https://"))
            .map(|url| format!("{}/.well-known/security.txt", url.trim_end_matches('/')));
        Ok(SecurityTxt {
            contacts,
            expires,
            languages: tags.join(", "),
            policy,
            encryption,
            canonical,
        })
    }

    /// When the file goes stale, seen at `now`.
    pub fn expires(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        self.expires.unwrap_or_else(|| {
            // Whole days, so the file stays the same all day (caches, diffs).
            let day = now.date_naive() + Duration::days(DEFAULT_VALIDITY_DAYS);
            day.and_hms_opt(0, 0, 0)
                .map_or(now + Duration::days(DEFAULT_VALIDITY_DAYS), |t| t.and_utc())
        })
    }

    /// True when a configured `Expires` has passed: reporters will then
    /// ignore the file, so the operator should hear about it.
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        self.expires.is_some_and(|e| e <= now)
    }

    /// The file, fields in RFC 9116 order of importance, lines ending in CRLF
    /// as the RFC's ABNF asks.
    pub fn render(&self, now: DateTime<Utc>) -> String {
        let mut lines = vec![
            "# Where to report a security vulnerability in this Samskab installation.".to_owned(),
            format!(
                "# Samskab {} ({})",
                build_info::VERSION,
                build_info::REPOSITORY
            ),
        ];
        lines.extend(self.contacts.iter().map(|c| format!("Contact: {c}")));
        lines.push(format!(
            "Expires: {}",
            self.expires(now).to_rfc3339_opts(SecondsFormat::Secs, true)
        ));
        if let Some(key) = &self.encryption {
            lines.push(format!("Encryption: {key}"));
        }
        lines.push(format!("Preferred-Languages: {}", self.languages));
        lines.push(format!("Policy: {}", self.policy));
        if let Some(url) = &self.canonical {
            lines.push(format!("Canonical: {url}"));
        }
        let mut text = lines.join("\r\n");
        text.push_str("\r\n");
        text
    }
}

fn non_empty(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

fn has_control(text: &str) -> bool {
    text.chars().any(|c| c.is_control() || c.is_whitespace())
}

fn https_url(variable: &str, url: &str) -> Result<String, String> {
    if url.starts_with("https://") && url.len() > "https://".len() && !has_control(url) {
        Ok(url.to_owned())
    } else {
        Err(format!("{variable}: `{url}` is not an https:// URL"))
    }
}

/// A BCP 47 tag in its simple form: letters, digits and hyphens, starting
/// with a 2–3 letter language (`da`, `en`, `en-GB`).
fn is_language_tag(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let language_ok = parts
        .next()
        .is_some_and(|l| (2..=3).contains(&l.len()) && l.chars().all(|c| c.is_ascii_alphabetic()));
    language_ok
        && parts.all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::configuration::SecurityTxtSettings;

    fn settings(security_txt: SecurityTxtSettings, public_url: Option<&str>) -> Settings {
        let source = config::Environment::with_prefix("SAMSKAB")
            .prefix_separator("_")
            .separator("__")
            .source(Some(
                [
                    ("SAMSKAB_BIND", "127.0.0.1:0"),
                    ("SAMSKAB_DATA_DIR", "/tmp"),
                    ("SAMSKAB_COOKIE_SECURE", "true"),
                    ("SAMSKAB_LOG", "info"),
                    ("SAMSKAB_DATABASE_MAX_CONNECTIONS", "5"),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            ));
        let mut s: Settings = config::Config::builder()
            .add_source(source)
            .build()
            .unwrap()
            .try_deserialize()
            .unwrap();
        s.security_txt = security_txt;
        s.public_url = public_url.map(str::to_owned);
        s
    }

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn unset_points_at_the_project_policy_and_expires_in_whole_days() {
        let txt = SecurityTxt::from_settings(&settings(Default::default(), None)).unwrap();
        let body = txt.render(at("2026-12-02T15:30:00Z"));
        let policy = project_policy_url();
        assert!(
            body.contains(&format!("\r\nContact: {policy}\r\n")),
            "{body}"
        );
        assert!(
            body.contains("\r\nExpires: 2027-01-01T00:00:00Z\r\n"),
            "{body}"
        );
        assert!(
            body.contains("\r\nPreferred-Languages: da, en\r\n"),
            "{body}"
        );
        assert!(
            body.contains(&format!("\r\nPolicy: {policy}\r\n")),
            "{body}"
        );
        assert!(
            !body.contains("Canonical:"),
            "no public URL, no canonical: {body}"
        );
        assert!(body.ends_with("\r\n"));
        assert!(!txt.is_expired(at("2030-01-01T00:00:00Z")));
    }

    #[test]
    fn configured_fields_are_published_in_order() {
        let txt = SecurityTxt::from_settings(&settings(
            SecurityTxtSettings {
                contact: Some("mailto:sikkerhed@aarhus.dk  https://aarhus.dk/sikkerhed".into()),
                expires: Some("2027-06-30T00:00:00+02:00".into()),
                preferred_languages: Some("da,en".into()),
                policy: Some("https://aarhus.dk/sikkerhed/politik".into()),
                encryption: Some("https://aarhus.dk/pgp.asc".into()),
            },
            Some("https://samskab.aarhus.dk/"),
        ))
        .unwrap();
        let body = txt.render(at("2026-12-02T00:00:00Z"));
        let fields: Vec<&str> = body.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(
            fields,
            [
                "Contact: mailto:sikkerhed@aarhus.dk",
                "Contact: https://aarhus.dk/sikkerhed",
                "Expires: 2027-06-29T22:00:00Z",
                "Encryption: https://aarhus.dk/pgp.asc",
                "Preferred-Languages: da, en",
                "Policy: https://aarhus.dk/sikkerhed/politik",
                "Canonical: https://samskab.aarhus.dk/.well-known/security.txt",
            ]
        );
        assert!(txt.is_expired(at("2027-07-01T00:00:00Z")));
    }

    #[test]
    fn bad_values_name_the_variable() {
        let cases = [
            (
                SecurityTxtSettings {
                    contact: Some("sikkerhed@aarhus.dk".into()),
                    ..Default::default()
                },
                "SAMSKAB_SECURITY_TXT__CONTACT",
            ),
            (
                SecurityTxtSettings {
                    contact: Some("http://aarhus.dk/sikkerhed".into()),
                    ..Default::default()
                },
                "SAMSKAB_SECURITY_TXT__CONTACT",
            ),
            (
                SecurityTxtSettings {
                    expires: Some("30-06-2027".into()),
                    ..Default::default()
                },
                "SAMSKAB_SECURITY_TXT__EXPIRES",
            ),
            (
                SecurityTxtSettings {
                    preferred_languages: Some("dansk og engelsk".into()),
                    ..Default::default()
                },
                "SAMSKAB_SECURITY_TXT__PREFERRED_LANGUAGES",
            ),
            (
                SecurityTxtSettings {
                    policy: Some("https://aarhus.dk/a\nContact: mailto:evil@example.org".into()),
                    ..Default::default()
                },
                "SAMSKAB_SECURITY_TXT__POLICY",
            ),
        ];
        for (security_txt, variable) in cases {
            let err = SecurityTxt::from_settings(&settings(security_txt, None)).unwrap_err();
            assert!(err.starts_with(variable), "{err}");
        }
    }
}
