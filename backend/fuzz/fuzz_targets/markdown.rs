//! The Markdown sanitiser: never panics, and no script or script link comes
//! out (the property test in markdown.rs checks the parsed HTML in depth).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|source: &str| {
    let html = samskab::markdown::to_safe_html(source).to_ascii_lowercase();
    assert!(!html.contains("<script"), "{source:?} → {html}");
    for link in html.split("href=\"").skip(1) {
        let value = link.split('"').next().unwrap_or("");
        let squeezed: String = value.chars().filter(|c| !c.is_whitespace()).collect();
        for scheme in ["javascript:", "vbscript:", "data:"] {
            assert!(!squeezed.starts_with(scheme), "{source:?} → {html}");
        }
    }
});
