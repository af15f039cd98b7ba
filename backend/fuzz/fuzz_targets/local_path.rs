//! `LocalPath::parse`: whatever it accepts is one path on this site.
#![no_main]

use libfuzzer_sys::fuzz_target;
use samskab::local_path::LocalPath;

fuzz_target!(|target: &str| {
    if let Some(path) = LocalPath::parse(target) {
        let s = path.as_str();
        assert!(s.starts_with('/') && !s.starts_with("//"), "{target:?} → {s:?}");
        assert!(s.bytes().all(|b| b.is_ascii_graphic() && b != b'\\'), "{target:?} → {s:?}");
        assert_eq!(LocalPath::parse(s).as_ref(), Some(&path), "stable for {target:?}");
    }
});
