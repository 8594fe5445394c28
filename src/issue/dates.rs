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

/// The period a text names as [`french_period`] writes it ("26 février au
/// 3 avril 2026", "du 3 au 17 mars 2026", "1er août 2026"), if it is one.
pub fn parse_french_period(text: &str) -> Option<super::Period> {
    let text = text.trim().trim_end_matches('.').to_lowercase();
    let text = text.strip_prefix("du ").unwrap_or(&text);
    let (first, last) = match text.split_once(" au ") {
        Some((first, last)) => (first, last),
        None => (text, text),
    };
    // The last day is whole: day, month, year.
    let last_words: Vec<&str> = last.split_whitespace().collect();
    let [day, month, year] = last_words[..] else {
        return None;
    };
    let to_month = month_number(month)?;
    let to_year: i32 = year.parse().ok()?;
    let to = NaiveDate::from_ymd_opt(to_year, to_month, day_number(day)?)?;
    // The first takes from the last what it does not say.
    let first_words: Vec<&str> = first.split_whitespace().collect();
    let from = match first_words[..] {
        [day] => NaiveDate::from_ymd_opt(to_year, to_month, day_number(day)?)?,
        [day, month] => NaiveDate::from_ymd_opt(to_year, month_number(month)?, day_number(day)?)?,
        [day, month, year] => {
            NaiveDate::from_ymd_opt(year.parse().ok()?, month_number(month)?, day_number(day)?)?
        }
        _ => return None,
    };
    (from <= to).then_some(super::Period { from, to })
}

/// A month's number by its French name.
fn month_number(name: &str) -> Option<u32> {
    let plain = |m: &str| m.replace(['é', 'è'], "e").replace('û', "u");
    MONTHS
        .iter()
        .position(|m| *m == name || plain(m) == plain(name))
        .and_then(|i| u32::try_from(i + 1).ok())
}

/// A day's number as French writes it ("1er", "3").
fn day_number(day: &str) -> Option<u32> {
    day.strip_suffix("er").unwrap_or(day).parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    #[test]
    fn a_period_written_in_french_is_read_back() {
        for (from, to) in [
            ("2026-02-26", "2026-04-03"),
            ("2026-03-01", "2026-03-17"),
            ("2025-12-15", "2026-01-01"),
            ("2026-08-01", "2026-08-01"),
        ] {
            let period = parse_french_period(&french_period(date(from), date(to)));
            assert_eq!(period.map(|p| (p.from, p.to)), Some((date(from), date(to))));
        }
        assert!(parse_french_period("Du 26 fevrier au 3 avril 2026.").is_some());
        for not in [
            "Une publication du SER de Londres",
            "3 avril",
            "32 mars 2026",
            "4 au 3 mars 2026",
        ] {
            assert!(parse_french_period(not).is_none(), "{not}");
        }
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
