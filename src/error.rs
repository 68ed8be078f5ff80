//! Errors and how they map to exit codes: bad input → 2, internal failure → 1.

use std::fmt;

/// A problem with what the user gave: a scenario file, a flag, a CSV file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    /// The file (or flag, e.g. `--horizon`) at fault.
    pub path: String,
    /// 1-based line and column, where known.
    pub location: Option<(usize, usize)>,
    /// The dotted key at fault, where known (`cluster.write_quorum`).
    pub key: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl InputError {
    /// An error about `path` with no location.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        InputError {
            path: path.into(),
            location: None,
            key: None,
            message: message.into(),
        }
    }

    /// Sets the key.
    pub fn with_key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }
}

impl fmt::Display for InputError {
    /// `path:line:col: key: message`, leaving out what is unknown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path)?;
        if let Some((line, col)) = self.location {
            write!(f, ":{line}:{col}")?;
        }
        if let Some(key) = &self.key {
            write!(f, ": {key}")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Any failure of a command.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input or usage (exit status 2).
    #[error("{0}")]
    Input(InputError),
    /// Something went wrong inside, or writing output failed (exit status 1).
    #[error("{0}")]
    Internal(String),
}

impl From<InputError> for Error {
    fn from(e: InputError) -> Self {
        Error::Input(e)
    }
}

impl Error {
    /// The process exit status for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Input(_) => 2,
            Error::Internal(_) => 1,
        }
    }

    /// An input error about a command-line flag.
    pub fn flag(flag: &str, message: impl Into<String>) -> Self {
        Error::Input(InputError::new(flag, message))
    }
}
