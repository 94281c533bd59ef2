//! The API's one error type, rendered in Zendesk's shape:
//! `{"error": "RecordInvalid", "description": "...", "details": {...}}`.
//!
//! Policy: every failure a client can cause is a 4xx with a message written
//! for that client. Store errors map once, here (`NotFound` → 404
//! `RecordNotFound`, `Invalid` → 422 `RecordInvalid` with `details` keyed by
//! field, `Forbidden` → 403, `Conflict` → 409). Database failures become 503
//! when the pool is exhausted and 500 otherwise; their detail goes to the
//! log, never to the client.

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};
use steward_store::StoreError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub error: &'static str,
    pub description: String,
    pub details: Option<Value>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, error: &'static str, description: impl Into<String>) -> Self {
        ApiError {
            status,
            error,
            description: description.into(),
            details: None,
        }
    }

    pub fn bad_request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BadRequest", description)
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "RecordNotFound", "Not found")
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "Couldn't authenticate you",
            "Send HTTP basic credentials (email/token:TOKEN or email:password) or a bearer token",
        )
    }

    pub fn forbidden(description: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "Forbidden", description)
    }

    /// 422 with Zendesk's per-field details.
    pub fn invalid(fields: Vec<(String, String)>) -> Self {
        let mut details = serde_json::Map::new();
        for (field, message) in &fields {
            let entry = details.entry(field.clone()).or_insert_with(|| json!([]));
            if let Value::Array(list) = entry {
                list.push(
                    json!({"description": format!("{field}: {message}"), "error": "InvalidValue"}),
                );
            }
        }
        let description = fields
            .iter()
            .map(|(f, m)| format!("{f}: {m}"))
            .collect::<Vec<_>>()
            .join("; ");
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            error: "RecordInvalid",
            description: format!("Record validation errors: {description}"),
            details: Some(Value::Object(details)),
        }
    }

    pub fn too_many_values(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "TooManyValues", description)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(_) => ApiError::not_found(),
            StoreError::Invalid { field, message } => ApiError::invalid(vec![(field, message)]),
            StoreError::Forbidden(m) => ApiError::forbidden(m),
            StoreError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, "UpdateConflict", m),
            StoreError::Db(sqlx_error) => {
                let timeout = matches!(sqlx_error, steward_store::DbError::PoolTimedOut);
                tracing::error!(error = %sqlx_error, "database error");
                if timeout {
                    ApiError::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "ServiceUnavailable",
                        "The server is overloaded; retry shortly",
                    )
                } else {
                    ApiError::new(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "InternalError",
                        "An unexpected error occurred; it has been logged",
                    )
                }
            }
            StoreError::Io(e) => {
                tracing::error!(error = %e, "storage error");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "ServiceUnavailable",
                    "The write could not be made durable; retry shortly",
                )
            }
            StoreError::Corrupt(m) => {
                tracing::error!(error = %m, "stored data could not be read");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "InternalError",
                    "An unexpected error occurred; it has been logged",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({"error": self.error, "description": self.description});
        if let (Some(d), Value::Object(map)) = (self.details, &mut body) {
            map.insert("details".into(), d);
        }
        let mut resp = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Basic realm=\"Steward\""),
            );
        }
        resp
    }
}
