//! The heading both timeline plots share: a title, the scenario's
//! description and a line of facts read off the CSV.

use super::Svg;
use crate::time::{SimTime, format_duration};

/// The title the caller knows (the CSV alone has no scenario name or
/// description): `run --plot` passes the scenario's, `plot timeline` the
/// file's name.
pub struct Caption {
    /// First line, bold.
    pub title: String,
    /// The scenario's description, wrapped under the title.
    pub description: Option<String>,
    /// What the run knows and the CSV does not, appended to the facts line
    /// (`run --plot`: the acknowledged writes its data losses destroyed).
    pub note: Option<String>,
}

impl Caption {
    /// The description in at most two lines.
    pub(crate) fn description_lines(&self) -> Vec<String> {
        self.description
            .as_deref()
            .map_or(Vec::new(), |d| wrap(d, 140, 2))
    }

    /// Draws the title, `description` (from [`Caption::description_lines`])
    /// and `facts`; returns the baseline of the facts line.
    pub(crate) fn draw(
        &self,
        svg: &mut Svg,
        left: f64,
        description: &[String],
        facts: &str,
    ) -> f64 {
        let facts_y = 40.0 + 15.0 * description.len() as f64;
        svg.text(
            left,
            22.0,
            &self.title,
            r#"class="title" font-size="15" font-weight="bold""#,
        );
        for (i, line) in description.iter().enumerate() {
            svg.text(left, 40.0 + 15.0 * i as f64, line, r#"class="description""#);
        }
        match &self.note {
            None => svg.text(left, facts_y, facts, r##"class="facts" fill="#555""##),
            Some(n) => svg.text(
                left,
                facts_y,
                &format!("{facts} · {n}"),
                r##"class="facts" fill="#555""##,
            ),
        }
        facts_y
    }
}

/// Splits `text` into at most `max_lines` lines of about `width` characters,
/// at spaces; the last line ends in `…` if text is left over.
fn wrap(text: &str, width: usize, max_lines: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut cur = String::new();
    for word in text.split_whitespace() {
        if !cur.is_empty() && cur.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut cur));
            if lines.len() == max_lines {
                if let Some(l) = lines.last_mut() {
                    l.push_str(" …");
                }
                return lines;
            }
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(word);
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}

/// A span for a caption: whole seconds from a minute up (the CSV has the µs).
pub(crate) fn human(s: f64) -> String {
    format_duration(SimTime::from_secs_f64(if s >= 60.0 {
        s.round()
    } else {
        s
    }))
}

/// "writes always available" or "writes unavailable 2h (3 outages)".
pub(crate) fn unavailable(what: &str, total_s: f64, outages: usize) -> String {
    if outages == 0 {
        format!("{what} always available")
    } else {
        format!(
            "{what} unavailable {} ({outages} outage{})",
            human(total_s),
            if outages == 1 { "" } else { "s" }
        )
    }
}

/// "no data loss", "1 data loss", "3 data losses".
pub(crate) fn losses(n: u64) -> String {
    match n {
        0 => "no data loss".to_string(),
        1 => "1 data loss".to_string(),
        n => format!("{n} data losses"),
    }
}
