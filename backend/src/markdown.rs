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

    /// What may be in the HTML, whatever the source: no element that runs or
    /// loads anything, no event handler or style attribute, and links only to
    /// http(s), mailto or this site.
    fn assert_safe(source: &str, html: &str) {
        let doc = scraper::Html::parse_fragment(html);
        for node in doc.tree.nodes() {
            let Some(el) = node.value().as_element() else {
                continue;
            };
            let name = el.name();
            assert!(
                !matches!(
                    name,
                    "script"
                        | "style"
                        | "iframe"
                        | "object"
                        | "embed"
                        | "img"
                        | "svg"
                        | "math"
                        | "form"
                        | "input"
                        | "button"
                        | "link"
                        | "meta"
                        | "base"
                        | "frame"
                        | "frameset"
                        | "video"
                        | "audio"
                        | "source"
                        | "textarea"
                        | "select"
                ),
                "<{name}> from {source:?}: {html}"
            );
            for (attr, value) in el.attrs() {
                let attr = attr.to_ascii_lowercase();
                assert!(
                    !attr.starts_with("on") && attr != "style" && attr != "srcdoc",
                    "{attr} from {source:?}: {html}"
                );
                if matches!(
                    attr.as_str(),
                    "href" | "src" | "action" | "formaction" | "xlink:href"
                ) {
                    // Resolved the way browsers do (WHATWG URL parsing: blanks
                    // and controls around it, tabs and newlines inside it ignored).
                    let base = url::Url::parse("https://samskab.invalid/").expect("base");
                    let scheme = base.join(value).map(|u| u.scheme().to_owned());
                    assert!(
                        matches!(scheme.as_deref(), Ok("http" | "https" | "mailto") | Err(_)),
                        "{attr}={value:?} from {source:?}: {html}"
                    );
                }
            }
        }
        assert!(
            !html.to_ascii_lowercase().contains("<script"),
            "{source:?}: {html}"
        );
    }

    #[test]
    fn known_attacks_are_harmless() {
        for source in [
            "<img src=x onerror=alert(1)>",
            "[x](javascript:alert(1))",
            "[x](JaVaScRiPt:alert(1))",
            "[x](\tjavascript:alert(1))",
            "[x](java&#x09;script:alert(1))",
            "[x](data:text/html;base64,PHNjcmlwdD4=)",
            "<a href=\"vbscript:x\">v</a>",
            "<svg onload=alert(1)>",
            "<iframe srcdoc=\"<script>alert(1)</script>\">",
            "<style>body{background:url(https://evil.example)}</style>",
            "<p style=\"background:url(https://evil.example)\">p</p>",
            "<form action=https://evil.example><button>ok</button></form>",
            "[a](<javascript:alert(1)>)",
            "<scr<script>ipt>alert(1)</script>",
            "<math><mi xlink:href=\"javascript:alert(1)\">x</mi></math>",
        ] {
            assert_safe(source, &to_safe_html(source));
        }
    }

    use proptest::prelude::*;

    /// Fragments of Markdown and HTML that attacks are made of.
    fn hostile() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just("<script>".to_owned()),
            Just("</script>".to_owned()),
            Just("<img src=x onerror=alert(1)>".to_owned()),
            Just("<a href=\"".to_owned()),
            Just("\">".to_owned()),
            Just("</a>".to_owned()),
            Just("javascript:".to_owned()),
            Just("JAVASCRIPT:".to_owned()),
            Just("java\tscript:".to_owned()),
            Just("&#106;avascript:".to_owned()),
            Just("data:text/html,".to_owned()),
            Just("[x](".to_owned()),
            Just(")".to_owned()),
            Just("![i](".to_owned()),
            Just(" onclick=x() ".to_owned()),
            Just("<svg/onload=alert(1)>".to_owned()),
            Just("<style>".to_owned()),
            Just(" style=\"x\"".to_owned()),
            Just("<iframe ".to_owned()),
            Just("`".to_owned()),
            Just("\n\n".to_owned()),
            Just("| a |\n|---|\n".to_owned()),
            Just("<!--".to_owned()),
            Just("-->".to_owned()),
            Just("<".to_owned()),
            Just(">".to_owned()),
            Just("\"".to_owned()),
            Just("'".to_owned()),
            "[a-z:/ ]{0,8}",
        ];
        proptest::collection::vec(piece, 0..16).prop_map(|v| v.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn output_is_safe_for_hostile_markdown(source in hostile()) {
            assert_safe(&source, &to_safe_html(&source));
        }

        #[test]
        fn output_is_safe_for_any_text(source in "\\PC*") {
            assert_safe(&source, &to_safe_html(&source));
        }
    }
}
