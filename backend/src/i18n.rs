//! Danish (default) and English message catalogs. Templates get the whole
//! catalog of the request's locale as `t` and use `{{t.section.key}}`; handlebars
//! strict mode turns a missing key into a render error, which the page tests
//! catch in both languages.

use anyhow::Context;
use serde_json::Value;
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    Da,
    En,
}

impl Locale {
    pub const ALL: [Locale; 2] = [Locale::Da, Locale::En];

    pub fn code(self) -> &'static str {
        match self {
            Locale::Da => "da",
            Locale::En => "en",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        match code.trim().to_ascii_lowercase().as_str() {
            "da" | "da-dk" => Some(Locale::Da),
            "en" | "en-gb" | "en-us" => Some(Locale::En),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Catalogs {
    by_locale: HashMap<Locale, Value>,
}

impl Catalogs {
    pub fn load() -> anyhow::Result<Self> {
        let mut by_locale = HashMap::new();
        for locale in Locale::ALL {
            let name = format!("{}.json", locale.code());
            let file = samskab_frontend::Locales::get(&name)
                .with_context(|| format!("message catalog {name} is missing"))?;
            let value: Value = serde_json::from_slice(&file.data)
                .with_context(|| format!("message catalog {name} is not valid JSON"))?;
            by_locale.insert(locale, value);
        }
        let catalogs = Catalogs { by_locale };
        catalogs.check_same_keys()?;
        Ok(catalogs)
    }

    /// Both catalogs must define exactly the same keys, so no page silently
    /// falls back to another language.
    fn check_same_keys(&self) -> anyhow::Result<()> {
        fn keys(prefix: &str, value: &Value, out: &mut Vec<String>) {
            if let Value::Object(map) = value {
                for (k, v) in map {
                    keys(&format!("{prefix}{k}."), v, out);
                }
            } else {
                out.push(prefix.trim_end_matches('.').to_owned());
            }
        }
        let mut da = Vec::new();
        let mut en = Vec::new();
        keys("", self.catalog(Locale::Da), &mut da);
        keys("", self.catalog(Locale::En), &mut en);
        da.sort();
        en.sort();
        let only_da: Vec<_> = da.iter().filter(|k| !en.contains(k)).collect();
        let only_en: Vec<_> = en.iter().filter(|k| !da.contains(k)).collect();
        anyhow::ensure!(
            only_da.is_empty() && only_en.is_empty(),
            "message catalogs differ: only in da: {only_da:?}; only in en: {only_en:?}"
        );
        Ok(())
    }

    pub fn catalog(&self, locale: Locale) -> &Value {
        static EMPTY: Value = Value::Null;
        self.by_locale.get(&locale).unwrap_or(&EMPTY)
    }

    /// Look up a dotted key, e.g. `errors.csrf`. Falls back to the key itself so
    /// a missing server-side message is visible rather than blank.
    pub fn text(&self, locale: Locale, key: &str) -> String {
        let mut value = self.catalog(locale);
        for part in key.split('.') {
            match value.get(part) {
                Some(v) => value = v,
                None => return key.to_owned(),
            }
        }
        value.as_str().map_or_else(|| key.to_owned(), str::to_owned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogs_load_and_agree_on_keys() {
        let catalogs = Catalogs::load().unwrap();
        assert_eq!(catalogs.text(Locale::Da, "nav.home"), "Forside");
        assert_eq!(catalogs.text(Locale::En, "nav.home"), "Home");
    }

    #[test]
    fn unknown_key_is_shown_as_itself() {
        let catalogs = Catalogs::load().unwrap();
        assert_eq!(catalogs.text(Locale::En, "no.such.key"), "no.such.key");
    }

    #[test]
    fn locale_codes_parse() {
        assert_eq!(Locale::parse("EN"), Some(Locale::En));
        assert_eq!(Locale::parse("da-DK"), Some(Locale::Da));
        assert_eq!(Locale::parse("fr"), None);
    }
}
