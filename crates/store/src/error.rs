//! The store's one error type.
//!
//! Policy: callers map these onto their own errors once (the web layer turns
//! `NotFound` into 404, `Invalid` into 422 `RecordInvalid`, `Conflict` into
//! 409, `Forbidden` into 403, and `Db` into a 503/500 whose detail is only
//! logged). Messages of the first four are written for the client; `Db`
//! carries driver detail that must never reach one.

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A value that is well-formed but not acceptable (unknown requester,
    /// duplicate e-mail, closed ticket). `field` names the offending field.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Conflict(String),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("stored data could not be read: {0}")]
    Corrupt(String),
    /// The disk refused to make a write durable.
    #[error("storage error: {0}")]
    Io(std::io::Error),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

impl StoreError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        StoreError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn is_unique_violation(&self) -> bool {
        matches!(self, StoreError::Db(e) if e.as_database_error().is_some_and(|d| d.is_unique_violation()))
    }
}

impl From<steward_domain::ParseError> for StoreError {
    fn from(e: steward_domain::ParseError) -> Self {
        StoreError::Corrupt(e.0)
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::Corrupt(e.to_string())
    }
}
