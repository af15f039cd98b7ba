//! Personal data in what citizens write: Danish CPR numbers, phone numbers,
//! email addresses and street addresses with a house number.
//!
//! A CPR number must never be stored, so every free text is masked with
//! [`mask_cpr`] before it reaches the database (see `services::clean_text`).
//! The other kinds are not masked (a citizen may mean a public place or the
//! council's own phone number) but put the text in front of a moderator with
//! the match highlighted ([`segments`]), even in post-moderated consultations.
//!
//! Pure functions, no I/O. The patterns err on the side of a moderator having
//! one more look: a false positive costs a minute, a published phone number
//! cannot be taken back.

use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Cpr,
    Phone,
    Email,
    Address,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Cpr => "cpr",
            Kind::Phone => "phone",
            Kind::Email => "email",
            Kind::Address => "address",
        }
    }
}

/// One finding: `text[start..end]` (byte offsets on char boundaries).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Match {
    pub kind: Kind,
    pub start: usize,
    pub end: usize,
}

/// What a masked CPR digit becomes. Same length, so length limits that held
/// before still hold, and nothing else detects it as a number.
pub const MASK: char = 'X';

/// The birth date in a CPR number's first six digits, with the century read
/// from the seventh digit as the CPR office defines it.
fn plausible_cpr(digits: &[u8; 10]) -> bool {
    let n = |i: usize| u32::from(digits[i] - b'0');
    let day = n(0) * 10 + n(1);
    let month = n(2) * 10 + n(3);
    let yy = i32::try_from(n(4) * 10 + n(5)).unwrap_or(0);
    let seventh = n(6);
    let century = match seventh {
        0..=3 => 1900,
        4 | 9 => {
            if yy <= 36 {
                2000
            } else {
                1900
            }
        }
        _ => {
            if yy <= 57 {
                2000
            } else {
                1800
            }
        }
    };
    chrono::NaiveDate::from_ymd_opt(century + yy, month, day).is_some()
}

/// CPR numbers: six digits of a real date, an optional dash or space, four
/// digits; not part of a longer number. (The modulus 11 check is not used:
/// numbers issued since 2007 need not pass it.)
pub fn find_cpr(text: &str) -> Vec<Match> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let starts_number = bytes[i].is_ascii_digit() && (i == 0 || !joins(bytes[i - 1]));
        if starts_number && let Some(end) = cpr_at(bytes, i) {
            out.push(Match {
                kind: Kind::Cpr,
                start: i,
                end,
            });
            i = end;
            continue;
        }
        i += 1;
    }
    out
}

/// A character that makes digits next to it part of a longer number.
fn joins(b: u8) -> bool {
    b.is_ascii_digit()
}

fn cpr_at(bytes: &[u8], start: usize) -> Option<usize> {
    let mut digits = [0u8; 10];
    let mut i = start;
    for d in digits.iter_mut().take(6) {
        let b = *bytes.get(i)?;
        if !b.is_ascii_digit() {
            return None;
        }
        *d = b;
        i += 1;
    }
    if matches!(bytes.get(i), Some(b'-' | b' ')) {
        i += 1;
    }
    for d in digits.iter_mut().skip(6) {
        let b = *bytes.get(i)?;
        if !b.is_ascii_digit() {
            return None;
        }
        *d = b;
        i += 1;
    }
    if bytes.get(i).is_some_and(|b| joins(*b)) {
        return None;
    }
    plausible_cpr(&digits).then_some(i)
}

/// The text with every digit of every CPR number replaced by [`MASK`].
/// Borrowed when there is nothing to mask.
pub fn mask_cpr(text: &str) -> std::borrow::Cow<'_, str> {
    let found = find_cpr(text);
    if found.is_empty() {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for m in found {
        out.push_str(&text[last..m.start]);
        out.extend(
            text[m.start..m.end]
                .chars()
                .map(|c| if c.is_ascii_digit() { MASK } else { c }),
        );
        last = m.end;
    }
    out.push_str(&text[last..]);
    std::borrow::Cow::Owned(out)
}

pub fn contains_cpr(text: &str) -> bool {
    !find_cpr(text).is_empty()
}

// A Danish number: eight digits starting 2–9, optionally after +45 or 0045,
// written together or in groups separated by single spaces (the way people
// write them: "12345678", "12 34 56 78", "1234 5678", "+45 12 34 56 78").
static PHONE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?:(?:\+|00)45 ?)?[2-9]\d(?: ?\d\d){3}|(?:(?:\+|00)45 ?)?[2-9]\d{3} \d{4}").ok()
});

static EMAIL: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"[\p{L}\p{N}._%+\-]+@[\p{L}\p{N}\-]+(?:\.[\p{L}\p{N}\-]+)*\.\p{L}{2,}").ok()
});

// A street name (one capitalised word ending like a Danish street, or a
// capitalised word followed by "Allé", "Plads", …) and a house number with
// an optional letter.
static ADDRESS: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(concat!(
        r"\b(?:\p{Lu}\p{Ll}*(?:vej|vejen|gade|gaden|stræde|strædet|vænge|vænget|torv|torvet|",
        r"plads|pladsen|allé|alle|boulevard|stien|sti|bakken|toften|parken|kaj|kajen|have|",
        r"haven|vang|vangen|gyde|passage|engen|højen|løkken|ager|agervej)",
        r"|\p{Lu}\p{Ll}+ (?:Allé|Alle|Plads|Torv|Boulevard|Vej|Gade|Have|Kaj|Stræde))",
        r" \d{1,4}[A-Za-z]?\b"
    ))
    .ok()
});

/// A match of `re` counts only when it is not glued to more digits (part
/// of a longer number, an amount like "1.250.000" or a decimal).
fn standalone(text: &str, start: usize, end: usize) -> bool {
    let before = text[..start].chars().next_back();
    let after: Vec<char> = text[end..].chars().take(2).collect();
    let digit_before = before.is_some_and(|c| c.is_ascii_digit());
    let glued_before = before.is_some_and(|c| matches!(c, '.' | ',' | '-' | '/'))
        && text[..start]
            .chars()
            .rev()
            .nth(1)
            .is_some_and(|c| c.is_ascii_digit());
    let digit_after = after.first().is_some_and(|c| c.is_ascii_digit());
    let glued_after = after
        .first()
        .is_some_and(|c| matches!(c, '.' | ',' | '-' | '/'))
        && after.get(1).is_some_and(|c| c.is_ascii_digit());
    !(digit_before || glued_before || digit_after || glued_after)
}

fn find_pattern(re: &LazyLock<Option<Regex>>, kind: Kind, text: &str, numeric: bool) -> Vec<Match> {
    let Some(re) = re.as_ref() else {
        return Vec::new();
    };
    re.find_iter(text)
        .filter(|m| !numeric || standalone(text, m.start(), m.end()))
        .map(|m| Match {
            kind,
            start: m.start(),
            end: m.end(),
        })
        .collect()
}

/// Every finding, in text order, without overlaps (a CPR number wins over
/// the phone number its digits also look like).
pub fn find(text: &str) -> Vec<Match> {
    let mut all = find_cpr(text);
    all.extend(find_pattern(&EMAIL, Kind::Email, text, false));
    all.extend(find_pattern(&PHONE, Kind::Phone, text, true));
    all.extend(find_pattern(&ADDRESS, Kind::Address, text, false));
    let mut out: Vec<Match> = Vec::with_capacity(all.len());
    for m in all {
        if out.iter().all(|o| m.end <= o.start || m.start >= o.end) {
            out.push(m);
        }
    }
    out.sort_by_key(|m| m.start);
    out
}

/// Personal data other than a CPR number (which is masked instead): the
/// text must be seen by a moderator before it is published.
pub fn needs_review(text: &str) -> bool {
    find(text).iter().any(|m| m.kind != Kind::Cpr)
}

/// The kinds found in `text`, each once, in a fixed order.
pub fn kinds(text: &str) -> Vec<Kind> {
    let found = find(text);
    [Kind::Cpr, Kind::Phone, Kind::Email, Kind::Address]
        .into_iter()
        .filter(|k| found.iter().any(|m| m.kind == *k))
        .collect()
}

/// A piece of text for display: plain, or a finding to highlight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Segment {
    pub text: String,
    pub kind: Option<Kind>,
}

/// `text` cut into plain pieces and findings, for highlighting.
pub fn segments(text: &str) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut last = 0;
    for m in find(text) {
        if m.start > last {
            out.push(Segment {
                text: text[last..m.start].to_owned(),
                kind: None,
            });
        }
        out.push(Segment {
            text: text[m.start..m.end].to_owned(),
            kind: Some(m.kind),
        });
        last = m.end;
    }
    if last < text.len() || out.is_empty() {
        out.push(Segment {
            text: text[last..].to_owned(),
            kind: None,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<(Kind, &str)> {
        find(text)
            .into_iter()
            .map(|m| (m.kind, &text[m.start..m.end]))
            .collect()
    }

    #[test]
    fn patterns_compile() {
        assert!(PHONE.is_some());
        assert!(EMAIL.is_some());
        assert!(ADDRESS.is_some());
    }

    #[test]
    fn cpr_numbers_with_and_without_dash_are_found() {
        assert_eq!(
            found("Mit cpr er 010190-1234, ring ikke"),
            vec![(Kind::Cpr, "010190-1234")]
        );
        assert_eq!(found("cpr 0101901234."), vec![(Kind::Cpr, "0101901234")]);
        assert_eq!(found("cpr 010190 1234"), vec![(Kind::Cpr, "010190 1234")]);
        assert_eq!(found("3112994321"), vec![(Kind::Cpr, "3112994321")]);
    }

    #[test]
    fn cpr_dates_must_exist_with_the_century_of_the_seventh_digit() {
        // Day 32 and month 13 do not exist.
        assert!(!contains_cpr("320190-1234"));
        assert!(!contains_cpr("011390-1234"));
        // 29 February 2000 existed (seventh digit 4, year 00 → 2000) …
        assert!(contains_cpr("290200-4123"));
        // … 29 February 1900 did not (seventh digit 1 → 1900).
        assert!(!contains_cpr("290200-1123"));
        // 29 February 1858 did not exist either (seventh digit 5, year 58 → 1858),
        // but 29 February 2056 will (year 56 → 2056).
        assert!(!contains_cpr("290258-5123"));
        assert!(contains_cpr("290256-5123"));
        assert!(contains_cpr("290296-9123"));
    }

    #[test]
    fn dates_amounts_postcodes_years_and_ranges_are_not_cpr_numbers() {
        for text in [
            "Mødet er 15.01.2027 kl. 12.00",
            "fra 2020-2024 og 2025–2030",
            "Det koster 1.250 kr. eller 1.250.000 kr.",
            "8000 Aarhus C og 8210 Aarhus V",
            "Budget 2027: 12.500.000 kr.",
            "150127 er bare et tal",
            "konto 12345678901",
            "010190-12345",
            "Sagsnummer 24/12345",
        ] {
            assert!(!contains_cpr(text), "{text}");
        }
    }

    #[test]
    fn masking_keeps_the_length_and_removes_the_digits() {
        let masked = mask_cpr("Se 010190-1234 og 0202021234 her");
        assert_eq!(masked, "Se XXXXXX-XXXX og XXXXXXXXXX her");
        assert!(!contains_cpr(&masked));
        assert!(matches!(
            mask_cpr("Ingen tal"),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    #[test]
    fn phone_numbers_are_found() {
        for (text, number) in [
            ("Ring på 23456789", "23456789"),
            ("tlf. 22 34 56 78 efter kl. 16", "22 34 56 78"),
            ("tlf 8940 1234", "8940 1234"),
            ("+45 23 45 67 89", "+45 23 45 67 89"),
            ("på 004523456789.", "004523456789"),
        ] {
            assert_eq!(found(text), vec![(Kind::Phone, number)], "{text}");
        }
    }

    #[test]
    fn numbers_that_are_not_phone_numbers() {
        for text in [
            "Det koster 1.250 kr.",
            "Projektet koster 12.345.678 kr.",
            "8000 Aarhus C",
            "I 2026 og 2027",
            "fra 2020-2024",
            "Mellem kl. 12.00 og 16.30",
            "Ca. 10 000 000 kr.",
            "12345678,50 kr.",
            "Sag 123456789",
        ] {
            assert!(
                find(text).iter().all(|m| m.kind != Kind::Phone),
                "{text}: {:?}",
                found(text)
            );
        }
    }

    #[test]
    fn email_addresses_are_found() {
        assert_eq!(
            found("Skriv til jens.hansen+samskab@eksempel.dk tak"),
            vec![(Kind::Email, "jens.hansen+samskab@eksempel.dk")]
        );
        assert!(found("@aarhuskommune på sociale medier").is_empty());
    }

    #[test]
    fn street_addresses_with_numbers_are_found() {
        for (text, address) in [
            ("Jeg bor på Bogensevej 12", "Bogensevej 12"),
            ("Søndergade 4B, 2. tv.", "Søndergade 4B"),
            ("Park Allé 15 har huller", "Park Allé 15"),
            ("ved Strandvejen 102", "Strandvejen 102"),
            ("Ny Munkegade 118", "Munkegade 118"),
        ] {
            assert_eq!(found(text), vec![(Kind::Address, address)], "{text}");
        }
    }

    #[test]
    fn places_without_a_house_number_are_not_addresses() {
        for text in [
            "Flere cykelstier på Randersvej",
            "Torvet er for lille",
            "8000 Aarhus C",
            "Vejle 2025",
            "Der er 3 veje ind til byen",
            "Marselisborg Allé er smuk om foråret",
        ] {
            assert!(found(text).is_empty(), "{text}: {:?}", found(text));
        }
    }

    #[test]
    fn review_is_needed_for_every_kind_but_cpr() {
        assert!(needs_review("ring 23456789"));
        assert!(!needs_review("cpr 010190-1234"));
        assert!(!needs_review("Flere bænke ved åen"));
        assert_eq!(kinds("010190-1234 og a@b.dk"), vec![Kind::Cpr, Kind::Email]);
    }

    #[test]
    fn segments_mark_the_findings_and_keep_all_text() {
        let text = "Ring 23456789 eller skriv a@b.dk.";
        let segs = segments(text);
        assert_eq!(
            segs.iter().map(|s| s.text.as_str()).collect::<String>(),
            text
        );
        let marked: Vec<_> = segs
            .iter()
            .filter_map(|s| s.kind.map(|k| (k, s.text.as_str())))
            .collect();
        assert_eq!(
            marked,
            vec![(Kind::Phone, "23456789"), (Kind::Email, "a@b.dk")]
        );
        assert_eq!(segments("").len(), 1);
    }
}
