//! Formatting catalogue messages that depend on a number, with Fluent.
//!
//! The catalogues (`frontend/locales/*.json`) stay one JSON file per language.
//! A message whose wording depends on a count is written in Fluent syntax,
//! e.g. `"{ $n ->\n[one] 1 støtte\n*[other] { $n } støtter\n}"` (each variant on
//! a line of its own, as Fluent requires), and is
//! formatted by `fluent-bundle` with the language's CLDR plural rules; every
//! other message keeps its plain `{name}` placeholders. Numbers in a Fluent
//! message are written the Danish (or English) way: "33.422", "82,5".

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};

use crate::i18n::Locale;
use crate::numbers;

/// A value for a placeholder.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    /// Chooses the plural form and is written with the locale's separators.
    Number(f64),
    Text(String),
}

impl From<u64> for Arg {
    fn from(n: u64) -> Self {
        Arg::Number(n as f64)
    }
}

impl From<usize> for Arg {
    fn from(n: usize) -> Self {
        Arg::Number(n as f64)
    }
}

impl From<i64> for Arg {
    fn from(n: i64) -> Self {
        Arg::Number(n as f64)
    }
}

impl From<u32> for Arg {
    fn from(n: u32) -> Self {
        Arg::Number(f64::from(n))
    }
}

impl From<i32> for Arg {
    fn from(n: i32) -> Self {
        Arg::Number(f64::from(n))
    }
}

impl From<String> for Arg {
    fn from(s: String) -> Self {
        Arg::Text(s)
    }
}

impl From<&str> for Arg {
    fn from(s: &str) -> Self {
        Arg::Text(s.to_owned())
    }
}

/// Whether `pattern` is written in Fluent syntax (has a `{ $variable }`).
pub fn is_fluent(pattern: &str) -> bool {
    pattern.contains("{ $") || pattern.contains("{$")
}

/// `pattern` (a catalogue message) with its placeholders filled in.
pub fn format(locale: Locale, pattern: &str, args: &[(&str, Arg)]) -> String {
    if !is_fluent(pattern) {
        // Plain messages get numbers as they are (years, ids, already
        // formatted figures are passed as text by the callers anyway).
        return args.iter().fold(pattern.to_owned(), |text, (name, value)| {
            let shown = match value {
                Arg::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => format!("{}", *n as i64),
                Arg::Number(n) => n.to_string(),
                Arg::Text(t) => t.clone(),
            };
            text.replace(&format!("{{{name}}}"), &shown)
        });
    }
    let Some(bundle) = bundle_for(locale, pattern) else {
        // A catalogue test parses every message, so this is not reached with
        // the shipped catalogues; show the raw text rather than nothing.
        return pattern.to_owned();
    };
    let mut fluent_args = FluentArgs::new();
    for (name, value) in args {
        match value {
            Arg::Number(n) => fluent_args.set(*name, FluentValue::from(*n)),
            Arg::Text(t) => fluent_args.set(*name, FluentValue::from(t.clone())),
        }
    }
    let Some(message) = bundle.get_message(MESSAGE_ID).and_then(|m| m.value()) else {
        return pattern.to_owned();
    };
    let mut errors = Vec::new();
    let text = bundle.format_pattern(message, Some(&fluent_args), &mut errors);
    if !errors.is_empty() {
        tracing::warn!(?errors, pattern, "message formatted with errors");
    }
    text.into_owned()
}

/// Whether `pattern` is a valid Fluent message (for the catalogue check).
pub fn parses(pattern: &str) -> bool {
    FluentResource::try_new(resource_text(pattern)).is_ok()
}

/// The `$variables` a Fluent pattern names.
pub fn variables(pattern: &str) -> Vec<String> {
    let mut out: Vec<String> = pattern
        .split('$')
        .skip(1)
        .map(|rest| {
            rest.chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                .collect()
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The text a reader sees most often (the default, plural form), with each
/// variable shown as `{name}`: for checks of the wording such as the LIX.
pub fn as_read(locale: Locale, pattern: &str) -> String {
    if !is_fluent(pattern) {
        return pattern.to_owned();
    }
    let names = variables(pattern);
    let args: Vec<(&str, Arg)> = names
        .iter()
        .map(|n| (n.as_str(), Arg::Text(format!("{{{n}}}"))))
        .collect();
    format(locale, pattern, &args)
}

const MESSAGE_ID: &str = "message";

/// The message as a one-entry Fluent resource; continuation lines of a
/// multi-line pattern are indented as Fluent requires.
fn resource_text(pattern: &str) -> String {
    format!("{MESSAGE_ID} = {}\n", pattern.replace('\n', "\n    "))
}

type Bundle = Arc<FluentBundle<FluentResource>>;

/// One parsed bundle per language and message, made on first use: the
/// catalogues are fixed, so this holds at most one entry per Fluent message.
static BUNDLES: LazyLock<Mutex<HashMap<(Locale, String), Bundle>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

fn bundle_for(locale: Locale, pattern: &str) -> Option<Bundle> {
    let key = (locale, pattern.to_owned());
    if let Some(b) = BUNDLES.lock().ok()?.get(&key) {
        return Some(b.clone());
    }
    let resource = FluentResource::try_new(resource_text(pattern)).ok()?;
    let lang: unic_langid::LanguageIdentifier = locale.code().parse().ok()?;
    let mut bundle = FluentBundle::new_concurrent(vec![lang]);
    // No Unicode isolation marks around values: the texts are left-to-right.
    bundle.set_use_isolating(false);
    bundle.set_formatter(Some(match locale {
        Locale::Da => format_da,
        Locale::En => format_en,
    }));
    bundle.add_resource(resource).ok()?;
    let bundle = Arc::new(bundle);
    if let Ok(mut all) = BUNDLES.lock() {
        all.insert(key, bundle.clone());
    }
    Some(bundle)
}

fn number(locale: Locale, n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        numbers::integer(locale, n as i64)
    } else {
        numbers::decimal(locale, n, 1)
    }
}

fn format_with(locale: Locale, value: &FluentValue) -> Option<String> {
    match value {
        FluentValue::Number(n) => Some(number(locale, n.value)),
        _ => None,
    }
}

fn format_da<M>(value: &FluentValue, _: &M) -> Option<String> {
    format_with(Locale::Da, value)
}

fn format_en<M>(value: &FluentValue, _: &M) -> Option<String> {
    format_with(Locale::En, value)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUPPORTS: &str = "{ $n ->\n[one] { $n } støtte\n*[other] { $n } støtter\n}";

    #[test]
    fn danish_plurals_follow_the_cldr_rules() {
        let f = |n: u64| format(Locale::Da, SUPPORTS, &[("n", n.into())]);
        assert_eq!(f(1), "1 støtte");
        assert_eq!(f(0), "0 støtter");
        assert_eq!(f(2), "2 støtter");
        assert_eq!(f(33_422), "33.422 støtter");
    }

    #[test]
    fn english_numbers_use_english_separators() {
        let p = "{ $n ->\n[one] one person\n*[other] { $n } people\n}";
        assert_eq!(format(Locale::En, p, &[("n", 1u64.into())]), "one person");
        assert_eq!(
            format(Locale::En, p, &[("n", 1234u64.into())]),
            "1,234 people"
        );
    }

    #[test]
    fn plain_messages_keep_their_placeholders() {
        let text = format(
            Locale::Da,
            "{name} har {n} idéer",
            &[("name", "Karen".into()), ("n", 1200u64.into())],
        );
        assert_eq!(text, "Karen har 1200 idéer");
        assert!(!is_fluent("{name} har {n} idéer"));
        assert!(is_fluent(SUPPORTS));
    }

    #[test]
    fn text_arguments_are_not_numbers() {
        let p = "{ $n ->\n[one] én\n*[other] flere\n} ({ $who })";
        assert_eq!(
            format(Locale::Da, p, &[("n", 1u64.into()), ("who", "Bo".into())]),
            "én (Bo)"
        );
    }

    /// Every Fluent message of the shipped catalogues parses and formats
    /// without errors for the counts that pick different forms.
    #[test]
    fn every_fluent_message_of_the_catalogues_formats() {
        fn leaves<'a>(prefix: String, v: &'a serde_json::Value, out: &mut Vec<(String, &'a str)>) {
            match v {
                serde_json::Value::Object(map) => {
                    for (k, x) in map {
                        leaves(format!("{prefix}{k}."), x, out);
                    }
                }
                serde_json::Value::String(s) => out.push((prefix, s)),
                _ => {}
            }
        }
        let catalogs = crate::i18n::Catalogs::load().expect("catalogues");
        let mut checked = 0;
        for locale in Locale::ALL {
            let mut all = Vec::new();
            leaves(String::new(), catalogs.catalog(locale), &mut all);
            for (key, pattern) in all.into_iter().filter(|(_, p)| is_fluent(p)) {
                assert!(
                    parses(pattern),
                    "{key} ({locale:?}) is not valid Fluent: {pattern}"
                );
                let resource = FluentResource::try_new(resource_text(pattern)).expect("parsed");
                let lang: unic_langid::LanguageIdentifier = locale.code().parse().expect("lang");
                let mut bundle = FluentBundle::new_concurrent(vec![lang]);
                bundle.add_resource(resource).expect("added");
                let message = bundle
                    .get_message(MESSAGE_ID)
                    .and_then(|m| m.value())
                    .expect("a value");
                // Every variable the message uses gets a number; errors would
                // name an unknown variable or a missing default variant.
                for n in [0.0, 1.0, 2.0, 5.0, 1000.0] {
                    let mut args = FluentArgs::new();
                    for var in variables(pattern) {
                        args.set(var, FluentValue::from(n));
                    }
                    let mut errors = Vec::new();
                    bundle.format_pattern(message, Some(&args), &mut errors);
                    assert!(errors.is_empty(), "{key} ({locale:?}) with {n}: {errors:?}");
                }
                checked += 1;
            }
        }
        assert!(
            checked >= 20,
            "the count messages are written in Fluent ({checked})"
        );
    }

    #[test]
    fn broken_fluent_is_detected() {
        assert!(parses(SUPPORTS));
        assert!(!parses("{ $n ->\n[one] x\n}"), "no default variant");
    }
}
