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

pub struct Views {
    registry: Handlebars<'static>,
}

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
        Ok(Views { registry })
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
    fn all_embedded_templates_compile() {
        let views = Views::load().unwrap();
        assert!(views.has_template("layouts/base"));
        assert!(views.has_template("pages/home"));
    }
}
