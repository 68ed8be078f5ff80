//! Analyses built on the model: single runs (`run`), Monte Carlo sweeps
//! (`sweep`) and their statistics (`stats`).

pub mod compare;
pub mod estimate;
pub mod markov;
pub mod run;
pub mod stats;
pub mod sweep;

/// The worker pool of a parallel analysis: `threads` workers, or one per
/// core. Results never depend on it (work is reduced in trial order).
pub fn thread_pool(threads: Option<usize>) -> Result<rayon::ThreadPool, crate::error::Error> {
    let mut builder = rayon::ThreadPoolBuilder::new();
    if let Some(t) = threads {
        builder = builder.num_threads(t);
    }
    builder
        .build()
        .map_err(|e| crate::error::Error::Internal(format!("cannot start threads: {e}")))
}
