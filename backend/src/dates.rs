//! Dates and times as people in Aarhus read them: in Europe/Copenhagen
//! (summer time included), Danish by default ("15. januar 2027 kl. 12.00"),
//! English on English pages ("15 January 2027 at 12:00"), and the short
//! phrase near a deadline ("3 dage tilbage", "Lukker i dag kl. 12.00").
//!
//! Pure functions of their arguments (the current time is passed in), so the
//! report, the pages and the mails say the same thing and tests can choose
//! the clock. Storage stays in UTC; only presentation and form input use
//! local time.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, TimeZone, Timelike, Utc};
use chrono_tz::Europe::Copenhagen;

use crate::i18n::Locale;

const MONTHS_DA: [&str; 12] = [
    "januar",
    "februar",
    "marts",
    "april",
    "maj",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "december",
];
const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn month(locale: Locale, month0: u32) -> &'static str {
    let names = match locale {
        Locale::Da => &MONTHS_DA,
        Locale::En => &MONTHS_EN,
    };
    names.get(month0 as usize).copied().unwrap_or("")
}

/// The local calendar day of an instant.
pub fn local_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&Copenhagen).date_naive()
}

/// "15. januar 2027" / "15 January 2027".
pub fn format_date(at: DateTime<Utc>, locale: Locale) -> String {
    format_naive_date(local_date(at), locale)
}

/// A calendar date without a time ("15. januar 2027" / "15 January 2027").
pub fn format_naive_date(d: NaiveDate, locale: Locale) -> String {
    match locale {
        Locale::Da => format!("{}. {} {}", d.day(), month(locale, d.month0()), d.year()),
        Locale::En => format!("{} {} {}", d.day(), month(locale, d.month0()), d.year()),
    }
}

/// "12.00" / "12:00" in local time.
pub fn format_time(at: DateTime<Utc>, locale: Locale) -> String {
    let local = at.with_timezone(&Copenhagen);
    let sep = match locale {
        Locale::Da => '.',
        Locale::En => ':',
    };
    format!("{:02}{sep}{:02}", local.hour(), local.minute())
}

/// "15. januar 2027 kl. 12.00" / "15 January 2027 at 12:00".
pub fn format_datetime(at: DateTime<Utc>, locale: Locale) -> String {
    let date = format_date(at, locale);
    let time = format_time(at, locale);
    match locale {
        Locale::Da => format!("{date} kl. {time}"),
        Locale::En => format!("{date} at {time}"),
    }
}

/// How soon an open consultation closes, for the reader: "Lukker i dag kl.
/// 12.00", "Lukker i morgen kl. 12.00", "3 dage tilbage" (counted in local
/// calendar days). `None` once the deadline has passed.
pub fn deadline_phrase(
    closes_at: DateTime<Utc>,
    now: DateTime<Utc>,
    locale: Locale,
) -> Option<String> {
    if closes_at <= now {
        return None;
    }
    let days = (local_date(closes_at) - local_date(now)).num_days();
    let time = format_time(closes_at, locale);
    Some(match (locale, days) {
        (Locale::Da, 0) => format!("Lukker i dag kl. {time}"),
        (Locale::En, 0) => format!("Closes today at {time}"),
        (Locale::Da, 1) => format!("Lukker i morgen kl. {time}"),
        (Locale::En, 1) => format!("Closes tomorrow at {time}"),
        (Locale::Da, n) => format!("{n} dage tilbage"),
        (Locale::En, n) => format!("{n} days left"),
    })
}

/// A local date and time typed into a form (`2027-01-15T12:00` from an
/// `<input type="datetime-local">`, also with a space or seconds), read as
/// Europe/Copenhagen time. `None` when it is not a date and time, or names a
/// time that does not exist locally (the hour skipped when summer time
/// starts). The hour repeated when summer time ends is read as the first one.
pub fn parse_local(input: &str) -> Option<DateTime<Utc>> {
    let s = input.trim();
    let naive = [
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%d %H:%M:%S",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())?;
    Copenhagen
        .from_local_datetime(&naive)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

/// A local calendar date typed into a form (`2027-03-01`).
pub fn parse_date(input: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(input.trim(), "%Y-%m-%d").ok()
}

/// The value for an `<input type="datetime-local">`: local time, minutes.
pub fn to_local_input(at: DateTime<Utc>) -> String {
    at.with_timezone(&Copenhagen)
        .format("%Y-%m-%dT%H:%M")
        .to_string()
}

/// Machine-readable local time with offset, for `<time datetime="…">`.
pub fn to_iso_local(at: DateTime<Utc>) -> String {
    at.with_timezone(&Copenhagen).to_rfc3339()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn winter_time_is_utc_plus_one() {
        let at = utc("2027-01-15T11:00:00Z");
        assert_eq!(format_datetime(at, Locale::Da), "15. januar 2027 kl. 12.00");
        assert_eq!(format_datetime(at, Locale::En), "15 January 2027 at 12:00");
    }

    #[test]
    fn summer_time_is_utc_plus_two() {
        let at = utc("2027-06-03T07:05:00Z");
        assert_eq!(format_datetime(at, Locale::Da), "3. juni 2027 kl. 09.05");
        assert_eq!(format_date(at, Locale::En), "3 June 2027");
    }

    #[test]
    fn the_local_day_is_not_the_utc_day() {
        // 23:30 UTC on 31 December is already New Year in Copenhagen.
        let at = utc("2026-12-31T23:30:00Z");
        assert_eq!(format_datetime(at, Locale::Da), "1. januar 2027 kl. 00.30");
    }

    #[test]
    fn summer_time_changes_are_followed() {
        // 28 March 2027: clocks go from 02:00 to 03:00.
        assert_eq!(
            format_time(utc("2027-03-28T00:59:00Z"), Locale::Da),
            "01.59"
        );
        assert_eq!(
            format_time(utc("2027-03-28T01:00:00Z"), Locale::Da),
            "03.00"
        );
        // 31 October 2027: clocks go from 03:00 back to 02:00.
        assert_eq!(
            format_time(utc("2027-10-31T00:30:00Z"), Locale::Da),
            "02.30"
        );
        assert_eq!(
            format_time(utc("2027-10-31T01:30:00Z"), Locale::Da),
            "02.30"
        );
    }

    #[test]
    fn form_input_is_local_time() {
        assert_eq!(
            parse_local("2027-01-15T12:00"),
            Some(utc("2027-01-15T11:00:00Z"))
        );
        assert_eq!(
            parse_local(" 2027-07-01 12:00 "),
            Some(utc("2027-07-01T10:00:00Z"))
        );
        assert_eq!(
            to_local_input(utc("2027-07-01T10:00:00Z")),
            "2027-07-01T12:00"
        );
        // The skipped hour does not exist; the repeated one is read as the first.
        assert_eq!(parse_local("2027-03-28T02:30"), None);
        assert_eq!(
            parse_local("2027-10-31T02:30"),
            Some(utc("2027-10-31T00:30:00Z"))
        );
        assert_eq!(parse_local("15.01.2027 12:00"), None);
        assert_eq!(parse_local("2027-02-30T12:00"), None);
        assert_eq!(parse_local(""), None);
    }

    #[test]
    fn deadline_phrases_count_local_days() {
        let closes = utc("2027-01-15T11:00:00Z");
        let da = |now: &str| deadline_phrase(closes, utc(now), Locale::Da);
        assert_eq!(
            da("2027-01-15T08:00:00Z").as_deref(),
            Some("Lukker i dag kl. 12.00")
        );
        // Midnight in Copenhagen is 23:00 UTC in winter.
        assert_eq!(
            da("2027-01-14T23:00:00Z").as_deref(),
            Some("Lukker i dag kl. 12.00")
        );
        assert_eq!(
            da("2027-01-14T22:59:00Z").as_deref(),
            Some("Lukker i morgen kl. 12.00")
        );
        assert_eq!(
            da("2027-01-12T09:00:00Z").as_deref(),
            Some("3 dage tilbage")
        );
        assert_eq!(da("2027-01-15T11:00:00Z"), None);
        assert_eq!(
            deadline_phrase(closes, utc("2027-01-12T09:00:00Z"), Locale::En).as_deref(),
            Some("3 days left")
        );
        assert_eq!(
            deadline_phrase(closes, utc("2027-01-15T09:00:00Z"), Locale::En).as_deref(),
            Some("Closes today at 12:00")
        );
    }

    #[test]
    fn deadline_across_the_summer_time_change() {
        // Closing Monday 29 March 2027 12.00 summer time (10:00 UTC), asked
        // Friday 26 March at 23.30 winter time: three local days.
        let closes = utc("2027-03-29T10:00:00Z");
        let now = utc("2027-03-26T22:30:00Z");
        assert_eq!(
            deadline_phrase(closes, now, Locale::Da).as_deref(),
            Some("3 dage tilbage")
        );
        assert_eq!(
            format_datetime(closes, Locale::Da),
            "29. marts 2027 kl. 12.00"
        );
    }
}
