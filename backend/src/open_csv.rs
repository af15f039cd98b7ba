//! Every CSV file Samskab writes goes through [`CsvWriter`], so none can carry
//! a spreadsheet formula (CSV injection, OWASP): a statement such as
//! `=HYPERLINK("https://evil.example","klik")` must open as text.
//!
//! The rule, as OWASP recommends: a text cell that begins with `=`, `+`, `-`,
//! `@`, a tab or a carriage return gets a single quote in front (spreadsheets
//! show the rest as text and hide the quote), and every text cell is written
//! in double quotes. Numbers (`-1` for a rejected statement or a disagree
//! vote) are written bare and stay numbers. So that the quote can be taken
//! off again exactly, a text that already begins with quotes followed by one
//! of those characters gets one more; [`restore`] takes exactly that one off
//! and leaves every other text alone, also one from Pol.is itself.

use std::borrow::Cow;

/// The characters that make a spreadsheet read a cell as a formula.
pub const FORMULA_TRIGGERS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Would the text be read as a formula once one leading quote is removed?
fn guarded(text: &str) -> bool {
    text.trim_start_matches('\'').starts_with(FORMULA_TRIGGERS)
}

/// The text as it goes into a cell: with a leading `'` when it could be a formula.
pub fn neutralise(text: &str) -> Cow<'_, str> {
    if guarded(text) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// The inverse of [`neutralise`], for reading our own export back in.
pub fn restore(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if guarded(rest) => rest,
        _ => cell,
    }
}

/// One cell of a row: text (neutralised and quoted) or a bare number.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell<'a>(Kind<'a>);

#[derive(Debug, Clone, PartialEq)]
enum Kind<'a> {
    Text(Cow<'a, str>),
    /// Written as it is: digits and signs of a number, a fixed column name, or nothing.
    Bare(Cow<'a, str>),
}

impl<'a> Cell<'a> {
    pub fn text(text: &'a str) -> Self {
        Cell(Kind::Text(Cow::Borrowed(text)))
    }

    pub fn owned_text(text: String) -> Self {
        Cell(Kind::Text(Cow::Owned(text)))
    }

    /// A column name. Anything but plain ASCII names is written as text.
    pub fn name(name: &'a str) -> Self {
        let plain = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            && !guarded(name);
        if plain {
            Cell(Kind::Bare(Cow::Borrowed(name)))
        } else {
            Cell::text(name)
        }
    }

    pub fn int(value: impl Into<i64>) -> Self {
        Cell(Kind::Bare(Cow::Owned(value.into().to_string())))
    }

    pub fn count(value: usize) -> Self {
        Cell(Kind::Bare(Cow::Owned(value.to_string())))
    }

    /// Finite numbers only; anything else is an empty cell.
    pub fn float(value: f64) -> Self {
        if value.is_finite() {
            Cell(Kind::Bare(Cow::Owned(value.to_string())))
        } else {
            Cell::empty()
        }
    }

    pub fn bool(value: bool) -> Self {
        Cell(Kind::Bare(Cow::Borrowed(if value {
            "true"
        } else {
            "false"
        })))
    }

    pub fn empty() -> Self {
        Cell(Kind::Bare(Cow::Borrowed("")))
    }

    pub fn opt_int(value: Option<impl Into<i64>>) -> Self {
        value.map_or_else(Cell::empty, Cell::int)
    }

    pub fn opt_float(value: Option<f64>) -> Self {
        value.map_or_else(Cell::empty, Cell::float)
    }

    fn write_into(&self, out: &mut Vec<u8>) {
        match &self.0 {
            Kind::Bare(s) => out.extend_from_slice(s.as_bytes()),
            Kind::Text(s) => {
                // RFC 4180: in quotes, a quote is written twice.
                out.push(b'"');
                for b in neutralise(s).bytes() {
                    if b == b'"' {
                        out.push(b'"');
                    }
                    out.push(b);
                }
                out.push(b'"');
            }
        }
    }
}

/// A CSV file being written: a header row, then rows of [`Cell`]s.
pub struct CsvWriter {
    inner: csv::Writer<Vec<u8>>,
    field: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
#[error("cannot write CSV: {0}")]
pub struct CsvError(String);

impl CsvWriter {
    pub fn new() -> Self {
        CsvWriter {
            // Quoting is decided per cell above (text always, numbers never),
            // so the writer only puts commas and line ends between them.
            inner: csv::WriterBuilder::new()
                .quote_style(csv::QuoteStyle::Never)
                .from_writer(Vec::new()),
            field: Vec::new(),
        }
    }

    pub fn row<'c>(&mut self, cells: impl IntoIterator<Item = Cell<'c>>) -> Result<(), CsvError> {
        for cell in cells {
            self.field.clear();
            cell.write_into(&mut self.field);
            self.inner
                .write_field(&self.field)
                .map_err(|e| CsvError(e.to_string()))?;
        }
        self.inner
            .write_record(None::<&[u8]>)
            .map_err(|e| CsvError(e.to_string()))
    }

    pub fn finish(self) -> Result<Vec<u8>, CsvError> {
        self.inner.into_inner().map_err(|e| CsvError(e.to_string()))
    }
}

impl Default for CsvWriter {
    fn default() -> Self {
        Self::new()
    }
}

/// Every cell of a CSV file written by [`CsvWriter`], read back with a
/// standard CSV reader and [`restore`]d: the inverse of writing text cells.
pub fn read_back(bytes: &[u8]) -> Result<Vec<Vec<String>>, csv::Error> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    reader
        .records()
        .map(|r| r.map(|r| r.iter().map(|c| restore(c).to_owned()).collect()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn written(cells: Vec<Cell<'_>>) -> Vec<u8> {
        let mut w = CsvWriter::new();
        w.row(cells).expect("row");
        w.finish().expect("finish")
    }

    #[test]
    fn a_formula_is_written_as_quoted_text() {
        let bytes = written(vec![
            Cell::int(7),
            Cell::text("=HYPERLINK(\"https://evil.example\",\"klik\")"),
            Cell::int(-1),
        ]);
        assert_eq!(
            String::from_utf8_lossy(&bytes),
            "7,\"'=HYPERLINK(\"\"https://evil.example\"\",\"\"klik\"\")\",-1\n"
        );
    }

    #[test]
    fn neutralise_and_restore_are_exact_inverses() {
        for (text, cell) in [
            ("=1+1", "'=1+1"),
            ("+45 12 34", "'+45 12 34"),
            ("-5", "'-5"),
            ("@navn", "'@navn"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("'=1", "''=1"),
            ("''-1", "'''-1"),
            ("'Tis", "'Tis"),
            ("'", "'"),
            ("plain", "plain"),
            ("", ""),
        ] {
            assert_eq!(neutralise(text), cell, "{text:?}");
            assert_eq!(restore(cell), text, "{cell:?}");
        }
        // A Pol.is export that never neutralised keeps its quotes.
        assert_eq!(restore("'Tis the season"), "'Tis the season");
        assert_eq!(restore("''"), "''");
    }

    #[test]
    fn names_are_bare_unless_odd() {
        assert_eq!(written(vec![Cell::name("comment-id")]), b"comment-id\n");
        assert_eq!(written(vec![Cell::name("-x")]), b"\"'-x\"\n");
        assert_eq!(written(vec![Cell::name("a,b")]), b"\"a,b\"\n");
    }

    #[test]
    fn numbers_stay_bare() {
        assert_eq!(
            written(vec![
                Cell::int(-1),
                Cell::float(-0.5),
                Cell::float(f64::NAN),
                Cell::bool(true),
                Cell::opt_int(None::<i64>),
                Cell::count(3),
            ]),
            b"-1,-0.5,,true,,3\n"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        #[test]
        fn any_text_round_trips_and_never_starts_a_formula(
            rows in (1usize..6).prop_flat_map(|width| proptest::collection::vec(
                proptest::collection::vec(any::<String>(), width), 1..5)),
            prefixes in proptest::collection::vec("['=+@\t\r-]{0,3}", 1..30),
        ) {
            // Spice the cells with formula-like beginnings.
            let rows: Vec<Vec<String>> = rows.into_iter().enumerate().map(|(i, row)| {
                row.into_iter().enumerate()
                    .map(|(j, c)| format!("{}{c}", prefixes[(i + j) % prefixes.len()]))
                    .collect()
            }).collect();
            let mut w = CsvWriter::new();
            for row in &rows {
                w.row(row.iter().map(|c| Cell::text(c))).expect("row");
            }
            let bytes = w.finish().expect("finish");
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(false).flexible(true).from_reader(bytes.as_slice());
            let raw: Vec<Vec<String>> = reader.records()
                .map(|r| r.expect("valid CSV").iter().map(str::to_owned).collect())
                .collect();
            for cell in raw.iter().flatten() {
                prop_assert!(!cell.starts_with(FORMULA_TRIGGERS), "{cell:?}");
            }
            prop_assert_eq!(read_back(&bytes).expect("valid CSV"), rows);
        }

        #[test]
        fn restore_inverts_neutralise(text in "['=+@\t\r a-]{0,6}\\PC{0,8}") {
            let cell = neutralise(&text);
            prop_assert_eq!(restore(&cell), text.as_str());
            prop_assert!(!cell.starts_with(FORMULA_TRIGGERS));
        }

        #[test]
        fn numbers_read_back_as_numbers(n in any::<i64>(), x in -1e9f64..1e9) {
            let bytes = written(vec![Cell::int(n), Cell::float(x)]);
            let rows = read_back(&bytes).expect("valid CSV");
            prop_assert_eq!(rows[0][0].parse::<i64>().ok(), Some(n));
            prop_assert_eq!(rows[0][1].parse::<f64>().ok(), Some(x));
        }
    }
}
