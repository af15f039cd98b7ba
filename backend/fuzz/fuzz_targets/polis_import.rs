//! `samskab import polis` before it writes anything: any three files are read
//! or refused with an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use samskab::services::polis_import;

fuzz_target!(|files: (&[u8], &[u8], Option<&[u8]>)| {
    let (comments, participants_votes, votes) = files;
    let path = std::path::Path::new("");
    if let Ok(parsed) = polis_import::parse(path, comments, participants_votes, votes) {
        let _ = parsed.statements();
    }
});
