//! Analyses built on the model: single runs (`run`).

pub mod run;
