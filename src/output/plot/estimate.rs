//! `estimate --plot`: how the estimate and its 95 % interval settle, batch
//! by batch (log trials across, the estimate up, on a log axis when the
//! interval allows), so a user sees whether it converged or still jumps.

use super::axis::Axis;
use super::sweep_draw::{Frame, Point, render};

use crate::analysis::estimate::Step;

/// The SVG of `steps` (a running estimate after each batch).
pub fn estimate_svg(title: &str, subtitle: &str, y_title: &str, steps: &[Step]) -> Vec<u8> {
    // Steps without a weighted hit have no estimate to draw.
    let drawn: Vec<&Step> = steps.iter().filter(|s| s.1 > 0.0).collect();
    let log_y = drawn.iter().all(|s| s.2 > 0.0) && !drawn.is_empty();
    let points: Vec<Point> = drawn
        .iter()
        .map(|&&(n, est, lo, hi)| Point {
            x: n as f64,
            y: est,
            // A log axis cannot draw an interval reaching 0.
            lo: (lo > 0.0 || !log_y).then_some(lo),
            hi: Some(hi),
        })
        .collect();
    let ax = Axis::fit(points.iter().map(|p| p.x), true);
    let ay = Axis::fit(
        points
            .iter()
            .flat_map(|p| [Some(p.y), p.lo, p.hi])
            .flatten(),
        log_y,
    );
    let last = steps.last().copied().unwrap_or_default();
    let footnote = format!(
        "{} trials; final estimate {:.4e} (95 % CI {:.4e} – {:.4e}); band: the 95 % interval after each batch",
        last.0, last.1, last.2, last.3
    );
    let frame = Frame {
        title,
        subtitle,
        x_title: "trials (log)",
        y_title,
        footnote: &footnote,
        ax: &ax,
        ay: &ay,
        categorical: None,
        nines: false,
    };
    render(&frame, &[("estimate".to_string(), points)])
}
