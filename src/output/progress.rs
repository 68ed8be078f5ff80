//! Progress shown on stderr while long commands work (terminals only).

use crate::time::US_PER_S;
use indicatif::{ProgressBar, ProgressStyle};

/// A spinner with the elapsed time while `analyze` builds and solves its
/// chain (stderr, terminals only; a large chain can take seconds, and the
/// solver cannot say in advance how many iterations it needs). It draws
/// first after a second, so quick answers never show it.
pub fn analyze_spinner() -> ProgressBar {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner();
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} building and solving the chain… {elapsed}")
    {
        bar.set_style(style);
    }
    bar.enable_steady_tick(std::time::Duration::from_secs(1));
    bar
}

/// A progress bar in simulated time for a long `run` (stderr, terminals only;
/// it appears after the first million events, so short runs never show it).
pub fn run_progress(horizon: crate::time::SimTime) -> ProgressBar {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(horizon.0 / US_PER_S);
    if let Ok(style) = ProgressStyle::with_template(
        "{bar:30} {percent:>3}% of {msg} simulated  elapsed {elapsed}  ETA {eta}",
    ) {
        bar.set_style(style);
    }
    bar.set_message(crate::time::format_duration(horizon));
    bar
}
