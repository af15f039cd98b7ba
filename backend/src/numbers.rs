//! Numbers as Danish (and English) readers write them: "33.422 deltagere", "82,0 %" in Danish,
//! "33,422" and "82.0 %" in English. Pure; the locale decides the separators.

use crate::i18n::Locale;

fn separators(locale: Locale) -> (char, char) {
    match locale {
        // (thousands, decimal)
        Locale::Da => ('.', ','),
        Locale::En => (',', '.'),
    }
}

fn group_thousands(digits: &str, sep: char) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(ch);
    }
    out
}

/// A whole number with thousands separators: 33.422 (da), 33,422 (en).
pub fn integer(locale: Locale, n: i64) -> String {
    let (thousands, _) = separators(locale);
    let grouped = group_thousands(&n.unsigned_abs().to_string(), thousands);
    if n < 0 {
        format!("−{grouped}")
    } else {
        grouped
    }
}

/// A number with `decimals` places: 82,0 (da), 82.0 (en); thousands grouped.
pub fn decimal(locale: Locale, x: f64, decimals: usize) -> String {
    let (thousands, decimal) = separators(locale);
    let text = format!("{:.*}", decimals, x.abs());
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let mut out = String::new();
    // "-0,0" reads oddly: only a value that rounds away from zero keeps its sign.
    if x < 0.0 && text.chars().any(|c| c.is_ascii_digit() && c != '0') {
        out.push('−');
    }
    out.push_str(&group_thousands(whole, thousands));
    if !fraction.is_empty() {
        out.push(decimal);
        out.push_str(fraction);
    }
    out
}

/// A percentage with one decimal and a space before the sign: "82,0 %".
pub fn percent(locale: Locale, p: f64) -> String {
    format!("{} %", decimal(locale, p, 1))
}

/// `part` of `whole` as a percentage (0 when `whole` is 0), formatted like [`percent`].
pub fn share(locale: Locale, part: u64, whole: u64) -> String {
    let p = if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    };
    percent(locale, p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn danish_groups_thousands_with_dots() {
        assert_eq!(integer(Locale::Da, 33_422), "33.422");
        assert_eq!(integer(Locale::Da, 1_234_567), "1.234.567");
        assert_eq!(integer(Locale::Da, 999), "999");
        assert_eq!(integer(Locale::Da, 0), "0");
        assert_eq!(integer(Locale::Da, -1000), "−1.000");
        assert_eq!(integer(Locale::En, 33_422), "33,422");
    }

    #[test]
    fn danish_decimals_use_a_comma() {
        assert_eq!(percent(Locale::Da, 82.0), "82,0 %");
        assert_eq!(percent(Locale::En, 82.0), "82.0 %");
        assert_eq!(decimal(Locale::Da, 1234.56, 2), "1.234,56");
        assert_eq!(decimal(Locale::Da, 0.049, 1), "0,0");
        assert_eq!(decimal(Locale::Da, -0.01, 1), "0,0");
        assert_eq!(decimal(Locale::Da, -2.5, 1), "−2,5");
        assert_eq!(decimal(Locale::Da, 7.0, 0), "7");
    }

    #[test]
    fn shares_are_rounded_to_one_decimal() {
        assert_eq!(share(Locale::Da, 1, 3), "33,3 %");
        assert_eq!(share(Locale::Da, 2, 3), "66,7 %");
        assert_eq!(share(Locale::Da, 5, 0), "0,0 %");
        assert_eq!(share(Locale::Da, 41, 50), "82,0 %");
    }
}
