//! Rebuild when any asset changes. The assets are embedded at compile time, and
//! the embedding macro only tracks files that already existed, so a newly added
//! template or stylesheet would otherwise be missing until an unrelated change.
//! A directory given to `rerun-if-changed` is scanned recursively.

fn main() {
    for dir in ["templates", "static", "locales", "fonts"] {
        println!("cargo:rerun-if-changed={dir}");
    }
}
