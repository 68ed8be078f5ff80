//! SVG plots: the timeline swimlanes and sweep curves. Hand-written SVG (a
//! small subset: rect, line, polyline, polygon, text) so no font or system
//! library is needed; text is left to the viewer's default sans-serif font.

mod axis;
mod caption;
mod compare;
mod database;
mod db_rows;
mod estimate;
mod instances;
mod kind;
mod replay;
mod replica_rows;
mod rows;
mod steps;
mod sweep;
mod sweep_draw;
mod timeline;
mod timescale;
mod volume;
mod volume_rows;
mod words;

pub use caption::Caption;
pub use compare::{compare_svg, plot_compare};
pub use estimate::estimate_svg;
pub use kind::FileKind;
pub use replay::plot_replay;
pub use sweep::{SweepPlot, SweepSvg, plot_sweep};

use crate::error::InputError;
use std::fmt::Write;
use std::io::{Read, Seek};

/// Renders a timeline CSV (`input`, named `path` in errors) as SVG: swimlanes
/// for one PG (SPEC §3), counts over time for a volume (SPEC §4), instance
/// lanes for a database (SPEC §5), told apart by the header. The file is read from the start twice, a row at a time.
pub fn plot_timeline<R: Read + Seek>(
    input: &mut R,
    path: &str,
    caption: &Caption,
) -> Result<Vec<u8>, InputError> {
    let prefix = rows::prefix(input, path)?;
    let first = prefix
        .trim_start_matches('\u{feff}')
        .lines()
        .next()
        .unwrap_or("");
    let cols: Vec<&str> = first.trim_end_matches('\r').split(',').collect();
    let volume = &crate::output::timeline::VOLUME_COLUMNS;
    if db_rows::is_db_header(&cols) {
        database::plot_database(input, path, &prefix, caption)
    } else if cols.len() > 3 && cols[..4] == volume[..4] {
        volume::plot_volume(input, path, caption)
    } else {
        timeline::plot_replicas(input, path, &prefix, caption)
    }
}

/// An SVG document being built.
pub(crate) struct Svg {
    body: String,
    width: f64,
    height: f64,
}

/// Escapes text for XML. Characters XML 1.0 cannot hold at all (control
/// characters other than tab and newlines, which a scenario name or a CSV
/// may contain) become U+FFFD, so the SVG always parses.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

impl Svg {
    pub(crate) fn new(width: f64, height: f64) -> Svg {
        Svg {
            body: String::new(),
            width,
            height,
        }
    }

    pub(crate) fn raw(&mut self, s: &str) {
        self.body.push_str(s);
        self.body.push('\n');
    }

    pub(crate) fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, fill: &str, extra: &str) {
        let _ = writeln!(
            self.body,
            r#"<rect x="{x:.2}" y="{y:.2}" width="{w:.2}" height="{h:.2}" fill="{fill}" {extra}/>"#
        );
    }

    pub(crate) fn line(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, stroke: &str, extra: &str) {
        let _ = writeln!(
            self.body,
            r#"<line x1="{x1:.2}" y1="{y1:.2}" x2="{x2:.2}" y2="{y2:.2}" stroke="{stroke}" {extra}/>"#
        );
    }

    pub(crate) fn text(&mut self, x: f64, y: f64, s: &str, extra: &str) {
        let _ = writeln!(
            self.body,
            r#"<text x="{x:.2}" y="{y:.2}" {extra}>{}</text>"#,
            esc(s)
        );
    }

    /// Appends what was drawn on `other` (its size is ignored).
    pub(crate) fn append(&mut self, other: Svg) {
        self.body.push_str(&other.body);
    }

    pub(crate) fn finish(self) -> Vec<u8> {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12">
<rect x="0" y="0" width="{w}" height="{h}" fill="white"/>
{body}</svg>
"#,
            w = self.width,
            h = self.height,
            body = self.body
        )
        .into_bytes()
    }
}

/// "Nice" tick positions (1, 2, 5 × 10^k) covering [lo, hi], about `n` of them.
pub(crate) fn nice_ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    if hi <= lo || !lo.is_finite() || !hi.is_finite() {
        return vec![lo];
    }
    // Halves keep the span finite for ends near ±f64::MAX.
    let raw = (hi / 2.0 - lo / 2.0) / n.max(1) as f64 * 2.0;
    if !raw.is_finite() || raw <= 0.0 {
        return vec![lo];
    }
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let mut t = (lo / step).ceil() * step;
    let mut out = Vec::new();
    while t <= hi + step * 1e-9 && out.len() < 100 {
        out.push(if t.abs() < step * 1e-9 { 0.0 } else { t });
        t += step;
    }
    out
}

/// A number for an axis label: short, no trailing zeros.
pub(crate) fn short(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    if !(1e-3..1e6).contains(&a) {
        let s = format!("{v:.2e}");
        let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
        return format!("{}e{e}", m.trim_end_matches('0').trim_end_matches('.'));
    }
    let s = format!("{v:.4}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    /// See: issue 11 (fuzz finding): a NUL or other control character in a
    /// name must not make the SVG unparsable.
    #[test]
    fn issue_11_control_characters_never_reach_the_svg() {
        let e = super::esc("a\u{0}b\u{11}<&>\"\tc");
        assert_eq!(e, "a\u{fffd}b\u{fffd}&lt;&amp;&gt;&quot;\tc");
        let doc = format!("<svg xmlns=\"http://www.w3.org/2000/svg\"><text>{e}</text></svg>");
        assert!(roxmltree::Document::parse(&doc).is_ok());
    }

    use super::*;

    #[test]
    fn ticks_are_nice() {
        assert_eq!(
            nice_ticks(0.0, 10.0, 5),
            vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]
        );
        assert_eq!(
            nice_ticks(0.0, 7200.0, 4),
            vec![0.0, 2000.0, 4000.0, 6000.0]
        );
        assert_eq!(short(0.25), "0.25");
        assert_eq!(short(1e-7), "1e-7");
        assert_eq!(short(1.5e6), "1.5e6");
    }
}
