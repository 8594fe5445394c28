//! Dates as French writes them, in the period and in the texts
//! that name it.

use chrono::{Datelike, NaiveDate};

const MONTHS: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];

fn day(date: NaiveDate) -> String {
    match date.day() {
        1 => "1er".to_owned(),
        d => d.to_string(),
    }
}

/// A date as French writes it: "3 avril 2026", "1er mai 2026".
pub fn french_date(date: NaiveDate) -> String {
    format!(
        "{} {} {}",
        day(date),
        MONTHS[date.month0() as usize],
        date.year()
    )
}

/// A period as French writes it, without repeating what both ends share:
/// "26 février au 3 avril 2026", "3 au 17 mars 2026".
pub fn french_period(from: NaiveDate, to: NaiveDate) -> String {
    if from == to {
        french_date(to)
    } else if from.year() != to.year() {
        format!("{} au {}", french_date(from), french_date(to))
    } else if from.month() != to.month() {
        format!(
            "{} {} au {}",
            day(from),
            MONTHS[from.month0() as usize],
            french_date(to)
        )
    } else {
        format!("{} au {}", day(from), french_date(to))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    #[test]
    fn periods() {
        assert_eq!(
            french_period(date("2026-02-26"), date("2026-04-03")),
            "26 février au 3 avril 2026"
        );
        assert_eq!(
            french_period(date("2026-03-01"), date("2026-03-17")),
            "1er au 17 mars 2026"
        );
        assert_eq!(
            french_period(date("2025-12-15"), date("2026-01-01")),
            "15 décembre 2025 au 1er janvier 2026"
        );
        assert_eq!(
            french_period(date("2026-08-01"), date("2026-08-01")),
            "1er août 2026"
        );
    }
}
