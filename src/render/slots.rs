//! The lines of a rendered part that differ from one subscriber to the
//! next: their unsubscription links ([`crate::unsubscribe::links`] makes
//! them). A part is rendered once per variant with a [`Slot`] line in each
//! such place, cut at those lines by [`pieces`], and filled per subscriber.

/// A place in a rendered part filled for each subscriber: their signed
/// unsubscription links. It stands on a line of its own, so that the parts
/// around it can be encoded once per variant and only the slot per message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Slot {
    /// The link to the reader's own page (their sections, leaving).
    Manage,
    /// The link that unsubscribes from the list.
    Unsubscribe,
    /// The link that stops one section (its id).
    Section(String),
}

const SLOT_MARK: char = '\u{E000}';

impl Slot {
    /// The line that stands for the slot in a rendered part.
    pub fn marker(&self) -> String {
        match self {
            Slot::Manage => format!("{SLOT_MARK}slot:manage{SLOT_MARK}"),
            Slot::Unsubscribe => format!("{SLOT_MARK}slot:unsubscribe{SLOT_MARK}"),
            Slot::Section(id) => format!("{SLOT_MARK}slot:section:{id}{SLOT_MARK}"),
        }
    }

    fn parse(line: &str) -> Option<Slot> {
        let inner = line
            .trim()
            .strip_prefix(SLOT_MARK)?
            .strip_suffix(SLOT_MARK)?;
        match inner.strip_prefix("slot:")? {
            "manage" => Some(Slot::Manage),
            "unsubscribe" => Some(Slot::Unsubscribe),
            other => other
                .strip_prefix("section:")
                .map(|id| Slot::Section(id.to_owned())),
        }
    }
}

/// A rendered part cut at its slots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece<'a> {
    /// Text shared by every subscriber; it ends at a line end (but the last).
    Fixed(&'a str),
    /// A per-subscriber line.
    Slot(Slot),
}

/// Cuts a rendered part at its slot lines.
pub fn pieces(part: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut at = 0;
    for line in part.split_inclusive('\n') {
        if let Some(slot) = Slot::parse(line) {
            if at > start {
                out.push(Piece::Fixed(&part[start..at]));
            }
            out.push(Piece::Slot(slot));
            start = at + line.len();
        }
        at += line.len();
    }
    if start < part.len() {
        out.push(Piece::Fixed(&part[start..]));
    }
    out
}

/// A part with its slots filled by `fill` (each fill is a line or more,
/// without the final line end).
pub fn personalise(part: &str, fill: impl Fn(&Slot) -> String) -> String {
    let mut out = String::with_capacity(part.len() + 512);
    for piece in pieces(part) {
        match piece {
            Piece::Fixed(text) => out.push_str(text),
            Piece::Slot(slot) => {
                out.push_str(&fill(&slot));
                out.push('\n');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_cut_out_and_filled() {
        let part = format!(
            "début\n{}\nmilieu\n{}\nfin",
            Slot::Section("spatial".into()).marker(),
            Slot::Unsubscribe.marker()
        );
        let cut = pieces(&part);
        assert_eq!(
            cut,
            vec![
                Piece::Fixed("début\n"),
                Piece::Slot(Slot::Section("spatial".into())),
                Piece::Fixed("milieu\n"),
                Piece::Slot(Slot::Unsubscribe),
                Piece::Fixed("fin"),
            ]
        );
        let filled = personalise(&part, |slot| match slot {
            Slot::Manage => "M".into(),
            Slot::Unsubscribe => "U".into(),
            Slot::Section(id) => format!("S {id}"),
        });
        assert_eq!(filled, "début\nS spatial\nmilieu\nU\nfin");
    }
}
