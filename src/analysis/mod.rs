//! Analyses built on the model: single runs (`run`), Monte Carlo sweeps
//! (`sweep`) and their statistics (`stats`).

pub mod compare;
pub mod estimate;
pub mod markov;
pub mod run;
pub mod stats;
pub mod sweep;
