//! Markdown written by staff and citizens, rendered to HTML that is safe to put
//! in a page: pulldown-cmark renders, ammonia removes anything that could run
//! script or load from another origin (images are dropped; links get
//! `rel="noopener noreferrer nofollow"`).

use pulldown_cmark::{Options, Parser, html};
use std::collections::HashSet;

pub fn to_safe_html(source: &str) -> String {
    let parser = Parser::new_ext(
        source,
        Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TABLES,
    );
    let mut unsafe_html = String::with_capacity(source.len() * 3 / 2);
    html::push_html(&mut unsafe_html, parser);
    let mut tags: HashSet<&str> = ammonia::Builder::default().clone_tags();
    tags.remove("img");
    ammonia::Builder::default()
        .tags(tags)
        .url_schemes(HashSet::from(["http", "https", "mailto"]))
        .link_rel(Some("noopener noreferrer nofollow"))
        .clean(&unsafe_html)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_markdown() {
        let html = to_safe_html("# Titel\n\n*vigtigt* og [link](https://aarhus.dk)");
        assert!(html.contains("<h1>Titel</h1>"));
        assert!(html.contains("<em>vigtigt</em>"));
        assert!(html.contains("href=\"https://aarhus.dk\""));
        assert!(html.contains("rel=\"noopener noreferrer nofollow\""));
    }

    #[test]
    fn strips_scripts_handlers_and_foreign_images() {
        let html = to_safe_html(
            "<script>alert(1)</script><a href=\"javascript:alert(1)\" onclick=\"x()\">a</a>\n\n\
             ![x](https://tracker.example/p.gif)",
        );
        assert!(!html.contains("<script"));
        assert!(!html.contains("javascript:"));
        assert!(!html.contains("onclick"));
        assert!(!html.contains("tracker.example"));
    }
}
