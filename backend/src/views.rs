//! Server-side rendering with handlebars. Templates are embedded in the binary
//! (`samskab-frontend`), strict mode is on so a typo in a template or a missing
//! translation fails loudly in tests instead of rendering blank.

use crate::messages::Arg;
use anyhow::Context;
use handlebars::{
    Context as HbContext, Handlebars, Helper, HelperResult, Output, RenderContext, RenderError,
    RenderErrorReason,
};
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::HashMap;

use crate::i18n::{Catalogs, Locale};

mod catalogue_uses;

use catalogue_uses::Uses;

pub struct Views {
    registry: Handlebars<'static>,
    /// Per template: the messages it and the partials it includes can show
    /// (`catalogue_uses`).
    uses: HashMap<String, Uses>,
    /// Template contexts that already hold the messages a page can show as
    /// `t`, kept between renders per locale and page: a page adds its own
    /// data, renders, and takes it out again, so the messages are neither
    /// looked up nor copied again on every page.
    with_catalog: std::sync::Mutex<HashMap<Locale, HashMap<String, Vec<HbContext>>>>,
}

/// At most this many prepared contexts per locale and page are kept (about
/// one per page rendered at the same moment).
const KEPT_CONTEXTS: usize = 16;

impl Views {
    pub fn load() -> anyhow::Result<Self> {
        let mut registry = Handlebars::new();
        registry.set_strict_mode(true);
        // Pages are rendered inside the layout's indented `{{> content}}`;
        // handlebars would indent every line of multi-line values too, which
        // adds spaces inside <textarea> and <pre> (a Markdown body saved back
        // from the edit form would turn into a code block).
        registry.set_prevent_indent(true);
        registry
            .register_embed_templates_with_extension::<samskab_frontend::Templates>(".hbs")
            .context("loading templates")?;
        registry.register_helper("tr", Box::new(tr_helper));
        Ok(Views {
            uses: template_uses(),
            registry,
            with_catalog: Default::default(),
        })
    }

    /// Render `name` with `data` (an object without `t`) and the catalogue
    /// of `locale` as `t`, without copying the catalogue.
    pub fn render_page(
        &self,
        name: &str,
        catalogs: &Catalogs,
        locale: Locale,
        data: serde_json::Map<String, Value>,
    ) -> anyhow::Result<String> {
        let kept = self.with_catalog.lock().ok().and_then(|mut kept| {
            kept.get_mut(&locale)
                .and_then(|pages| pages.get_mut(name))
                .and_then(Vec::pop)
        });
        let mut ctx = match kept {
            Some(ctx) => ctx,
            None => {
                let catalogue = catalogs.catalog(locale);
                let messages = match self.uses.get(name) {
                    Some(uses) => catalogue_uses::subset(catalogue, uses),
                    // Not a template: the render fails below, as it should.
                    None => catalogue.clone(),
                };
                HbContext::from(json!({ "t": messages }))
            }
        };
        let Some(object) = ctx.data_mut().as_object_mut() else {
            anyhow::bail!("a template context is no object");
        };
        object.extend(data.into_iter().filter(|(k, _)| k != "t"));
        let html = self
            .registry
            .render_with_context(name, &ctx)
            .with_context(|| format!("rendering template {name}"));
        if let Some(object) = ctx.data_mut().as_object_mut() {
            object.retain(|k, _| k == "t");
        }
        if let Ok(mut kept) = self.with_catalog.lock() {
            let pages = kept.entry(locale).or_default();
            match pages.get_mut(name) {
                Some(list) if list.len() < KEPT_CONTEXTS => list.push(ctx),
                Some(_) => {}
                None => {
                    pages.insert(name.to_owned(), vec![ctx]);
                }
            }
        }
        html
    }

    pub fn render<T: Serialize>(&self, name: &str, data: &T) -> anyhow::Result<String> {
        self.registry
            .render(name, data)
            .with_context(|| format!("rendering template {name}"))
    }

    pub fn has_template(&self, name: &str) -> bool {
        self.registry.has_template(name)
    }
}

/// Every embedded template's uses of the catalogue, with those of the
/// partials it includes.
fn template_uses() -> HashMap<String, Uses> {
    let own: std::collections::BTreeMap<String, Uses> = samskab_frontend::Templates::iter()
        .filter_map(|file| {
            let name = file.strip_suffix(".hbs")?.to_owned();
            let source = samskab_frontend::Templates::get(&file)?;
            Some((
                name,
                catalogue_uses::scan(&String::from_utf8_lossy(&source.data)),
            ))
        })
        .collect();
    own.keys()
        .map(|name| (name.clone(), catalogue_uses::closure(name, &own)))
        .collect()
}

/// `{{tr t.some.message name=value}}`: a translated message with `{name}`
/// placeholders filled in. Values are escaped like any other output.
fn tr_helper(
    h: &Helper,
    _: &Handlebars,
    ctx: &HbContext,
    _: &mut RenderContext,
    out: &mut dyn Output,
) -> HelperResult {
    let template = h
        .param(0)
        .and_then(|p| p.value().as_str())
        .ok_or_else(|| RenderError::from(RenderErrorReason::ParamNotFoundForIndex("tr", 0)))?;
    let locale = ctx
        .data()
        .get("lang")
        .and_then(|l| l.as_str())
        .and_then(crate::i18n::Locale::parse)
        .unwrap_or(crate::i18n::Locale::Da);
    let args: Vec<(&str, Arg)> = h
        .hash()
        .iter()
        .map(|(name, value)| {
            let arg = match value.value() {
                serde_json::Value::Number(n) => n
                    .as_f64()
                    .map_or_else(|| Arg::Text(n.to_string()), Arg::Number),
                serde_json::Value::String(s) => Arg::Text(s.clone()),
                other => Arg::Text(other.to_string()),
            };
            (*name, arg)
        })
        .collect();
    let text = crate::messages::format(locale, template, &args);
    out.write(&handlebars::html_escape(&text))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tr_fills_placeholders_and_escapes() {
        let mut hb = Handlebars::new();
        hb.register_helper("tr", Box::new(tr_helper));
        hb.register_template_string("x", "{{tr msg n=count who=name}}")
            .unwrap();
        let out = hb
            .render(
                "x",
                &serde_json::json!({"msg": "{n} votes by {who}", "count": 3, "name": "<b>"}),
            )
            .unwrap();
        assert_eq!(out, "3 votes by &lt;b&gt;");
    }

    #[test]
    fn a_page_gets_the_catalogue_and_only_its_own_data() {
        let views = Views::load().unwrap();
        let catalogs = Catalogs::load().unwrap();
        let mut registry = views.registry.clone();
        registry
            .register_template_string("probe", "{{t.nav.home}}|{{#if page}}{{page.x}}{{/if}}")
            .unwrap();
        let mut uses = template_uses();
        uses.insert(
            "probe".into(),
            catalogue_uses::scan("{{t.nav.home}}|{{#if page}}{{page.x}}{{/if}}"),
        );
        let views = Views {
            uses,
            registry,
            with_catalog: Default::default(),
        };
        let data = |x: Value| {
            let mut m = serde_json::Map::new();
            if !x.is_null() {
                m.insert("page".into(), json!({ "x": x }));
            }
            m
        };
        let first = views
            .render_page("probe", &catalogs, Locale::Da, data(json!(1)))
            .unwrap();
        assert_eq!(first, "Forside|1");
        // The kept context forgot the first page's data.
        let second = views
            .render_page("probe", &catalogs, Locale::Da, data(Value::Null))
            .unwrap();
        assert_eq!(second, "Forside|");
        let english = views
            .render_page("probe", &catalogs, Locale::En, data(json!(2)))
            .unwrap();
        assert_eq!(english, "Home|2");
    }

    #[test]
    fn a_page_gets_the_messages_of_its_layout_and_partials_and_no_others() {
        let views = Views::load().unwrap();
        let catalogs = Catalogs::load().unwrap();
        let catalogue = catalogs.catalog(Locale::Da);
        let uses = &views.uses["pages/statements"];
        assert!(!uses.whole);
        let messages = catalogue_uses::subset(catalogue, uses);
        // Its own, the layout's and the deadline line's (a partial).
        assert_eq!(
            messages["statements"]["agree"],
            catalogue["statements"]["agree"]
        );
        assert_eq!(messages["nav"]["home"], catalogue["nav"]["home"]);
        assert_eq!(
            messages["deadlines"]["deadline_label"],
            catalogue["deadlines"]["deadline_label"]
        );
        // A page that shows nothing of the data rights does not carry them.
        assert!(messages.get("data_rights").is_none());
        let size = |v: &Value| serde_json::to_vec(v).unwrap().len();
        assert!(
            size(&messages) * 2 < size(catalogue),
            "{} of {} bytes",
            size(&messages),
            size(catalogue)
        );
    }

    #[test]
    fn all_embedded_templates_compile() {
        let views = Views::load().unwrap();
        assert!(views.has_template("layouts/base"));
        assert!(views.has_template("pages/home"));
    }
}
