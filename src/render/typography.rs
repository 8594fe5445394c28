//! French typography, applied when rendering so that editors type ordinary
//! spaces.
//!
//! French sets a no-break space before `:`, a narrow no-break space before
//! `;`, `!` and `?`, and narrow no-break spaces inside « guillemets ». The
//! editor's ordinary space (if any) is replaced; guillemets get their space
//! even when none was typed. Nothing else is touched: `https://`, `10:30` and
//! `C++;` have no space before the sign and keep none.
//!
//! ```
//! use breves::render::typography::{french, NBSP, NNBSP};
//! assert_eq!(french("Note : « oui » ; non !"),
//!            format!("Note{NBSP}: «{NNBSP}oui{NNBSP}»{NNBSP}; non{NNBSP}!"));
//! assert_eq!(french("https://example.org 10:30"), "https://example.org 10:30");
//! ```

use std::borrow::Cow;

use chrono::{Datelike, NaiveDate};

/// No-break space (U+00A0), before `:`.
pub const NBSP: char = '\u{a0}';
/// Narrow no-break space (U+202F), before `; ! ?` and inside « ».
pub const NNBSP: char = '\u{202f}';

fn is_space(c: char) -> bool {
    c == ' ' || c == NBSP || c == NNBSP
}

/// The space French wants before `c`, if `c` is a sign that takes one.
fn space_before(c: char) -> Option<char> {
    match c {
        ':' => Some(NBSP),
        ';' | '!' | '?' | '»' => Some(NNBSP),
        _ => None,
    }
}

/// `text` with French no-break spaces.
pub fn french(text: &str) -> Cow<'_, str> {
    if !text.contains([':', ';', '!', '?', '«', '»']) {
        return Cow::Borrowed(text);
    }
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() + 8);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if is_space(c) {
            // A run of spaces before a sign becomes the sign's own space.
            let mut j = i;
            while j < chars.len() && is_space(chars[j]) {
                j += 1;
            }
            if let Some(space) = chars.get(j).copied().and_then(space_before) {
                out.push(space);
                i = j;
                continue;
            }
            out.extend(&chars[i..j]);
            i = j;
            continue;
        }
        if c == '»' && i == 0 {
            // At the start of a run of text, the word it closes came just before.
            out.push(NNBSP);
        } else if c == '»' && !is_space(chars[i - 1]) {
            out.push(NNBSP);
        }
        out.push(c);
        if c == '«' {
            out.push(NNBSP);
            while i + 1 < chars.len() && is_space(chars[i + 1]) {
                i += 1;
            }
        }
        i += 1;
    }
    Cow::Owned(out)
}

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

/// Section names joined as French lists them: "A, B et C".
pub fn french_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} et {last}", rest.join(", ")),
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

    #[test]
    fn spaces() {
        assert_eq!(french("a : b"), format!("a{NBSP}: b"));
        assert_eq!(french("(i) x ; (ii) y"), format!("(i) x{NNBSP}; (ii) y"));
        assert_eq!(french("«oui»"), format!("«{NNBSP}oui{NNBSP}»"));
        assert_eq!(french("un « "), format!("un «{NNBSP}"));
        assert_eq!(french(" » et"), format!("{NNBSP}» et"));
        assert_eq!(french("Quoi  ?"), format!("Quoi{NNBSP}?"));
        assert_eq!(french("a:b?c=d"), "a:b?c=d");
        assert_eq!(french_list(&["A", "B", "C"]), "A, B et C");
    }
}
