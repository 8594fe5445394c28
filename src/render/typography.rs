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

pub use crate::issue::dates::{french_date, french_period};

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
