//! The CSV writer: any text cells read back unchanged, none starts a formula.
#![no_main]

use libfuzzer_sys::fuzz_target;
use samskab::open_csv::{Cell, CsvWriter, FORMULA_TRIGGERS, read_back};

fuzz_target!(|cells: Vec<String>| {
    let mut writer = CsvWriter::new();
    writer
        .row(cells.iter().map(|c| Cell::text(c)))
        .expect("a row of text cells");
    let bytes = writer.finish().expect("finish");
    let mut raw = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(bytes.as_slice());
    for record in raw.records() {
        for cell in record.expect("valid CSV").iter() {
            assert!(!cell.starts_with(FORMULA_TRIGGERS), "{cell:?}");
        }
    }
    let back = read_back(&bytes).expect("valid CSV");
    assert_eq!(back.concat(), cells);
});
