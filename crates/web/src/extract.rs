//! Request extractors that turn every malformed input into an [`ApiError`]
//! (never axum's plain-text rejections): JSON bodies, query parameters, ids
//! in paths (`123` or `123.json`), and the authenticated actor.

use std::collections::HashMap;

use axum::{
    body::Bytes,
    extract::{FromRequest, FromRequestParts, Path, Query, Request},
    http::{StatusCode, header, request::Parts},
};
use base64::Engine;
use serde_json::Value;
use steward_domain::Role;
use steward_store::{Actor, User};

use crate::{AppState, error::ApiError};

/// A JSON body, at most [`crate::MAX_BODY_BYTES`].
pub struct JsonBody(pub Value);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "RequestTooLarge",
                    format!(
                        "request bodies are limited to {} bytes",
                        crate::MAX_BODY_BYTES
                    ),
                )
            } else {
                ApiError::bad_request(format!("could not read the request body: {e}"))
            }
        })?;
        if bytes.is_empty() {
            return Err(ApiError::bad_request("a JSON body is required"));
        }
        let value: Value = serde_json::from_slice(&bytes).map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "InvalidJSON",
                format!("the body is not valid JSON: {e}"),
            )
        })?;
        Ok(JsonBody(value))
    }
}

/// A UTF-8 text body (CSV uploads), at most [`crate::MAX_BODY_BYTES`].
pub struct TextBody(pub String);

impl<S: Send + Sync> FromRequest<S> for TextBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "RequestTooLarge",
                    format!(
                        "request bodies are limited to {} bytes",
                        crate::MAX_BODY_BYTES
                    ),
                )
            } else {
                ApiError::bad_request(format!("could not read the request body: {e}"))
            }
        })?;
        let text = String::from_utf8(bytes.to_vec())
            .map_err(|_| ApiError::bad_request("the body must be UTF-8 text"))?;
        if text.contains('\0') {
            return Err(ApiError::bad_request(
                "the body must not contain NUL characters",
            ));
        }
        Ok(TextBody(text))
    }
}

/// Query parameters as strings; NUL characters are refused here so that no
/// layer below has to think about them.
pub struct Params(pub HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Query(map) = Query::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::bad_request(format!("invalid query string: {e}")))?;
        if map
            .iter()
            .any(|(k, v)| k.contains('\0') || v.contains('\0'))
        {
            return Err(ApiError::bad_request(
                "query parameters must not contain NUL characters",
            ));
        }
        Ok(Params(map))
    }
}

impl Params {
    pub fn get(&self, k: &str) -> Option<&str> {
        self.0.get(k).map(String::as_str).filter(|v| !v.is_empty())
    }

    pub fn u32(&self, k: &str) -> Result<Option<u32>, ApiError> {
        self.get(k)
            .map(|v| {
                v.trim()
                    .parse::<u32>()
                    .map_err(|_| ApiError::bad_request(format!("{k} must be a positive integer")))
            })
            .transpose()
    }

    /// A comma-separated id list (`ids=1,2,3`), at most `max` of them.
    pub fn ids(&self, k: &str, max: usize) -> Result<Vec<i64>, ApiError> {
        let raw = self
            .get(k)
            .ok_or_else(|| ApiError::bad_request(format!("{k} is required")))?;
        let ids = raw
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<i64>()
                    .map_err(|_| ApiError::bad_request(format!("{k}: {s} is not an id")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if ids.len() > max {
            return Err(ApiError::too_many_values(format!(
                "{k} accepts at most {max} values"
            )));
        }
        Ok(ids)
    }
}

/// An id from the path; `123.json` is accepted like `123`. Anything else is
/// simply not found.
pub struct Id(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(params) = Path::<Vec<(String, String)>>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::not_found())?;
        let raw = params.first().map(|(_, v)| v.as_str()).unwrap_or_default();
        parse_id(raw).map(Id).ok_or_else(ApiError::not_found)
    }
}

/// Two numeric path parameters (`/projects/{id}/risks/{risk_id}`); a
/// malformed one is a 404, as for [`Id`].
pub struct Ids(pub i64, pub i64);

impl<S: Send + Sync> FromRequestParts<S> for Ids {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(params) = Path::<Vec<(String, String)>>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::not_found())?;
        let id = |i: usize| params.get(i).and_then(|(_, v)| parse_id(v));
        match (id(0), id(1)) {
            (Some(a), Some(b)) => Ok(Ids(a, b)),
            _ => Err(ApiError::not_found()),
        }
    }
}

pub fn parse_id(raw: &str) -> Option<i64> {
    raw.strip_suffix(".json")
        .unwrap_or(raw)
        .parse::<i64>()
        .ok()
        .filter(|v| *v > 0)
}

/// The authenticated caller. Accepts HTTP basic `email/token:TOKEN`,
/// `email:password`, and `Authorization: Bearer TOKEN`.
pub struct Auth(pub Actor);

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(ApiError::unauthorized)?;
        actor(state, header).await.map(Auth)
    }
}

/// The caller on routes that anonymous visitors may use too (the public
/// knowledge base): `None` without an `Authorization` header. Credentials
/// that are sent but wrong are still a 401, never a silent downgrade to
/// anonymous.
pub struct MaybeAuth(pub Option<Actor>);

impl FromRequestParts<AppState> for MaybeAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match parts.headers.get(header::AUTHORIZATION) {
            None => Ok(MaybeAuth(None)),
            Some(v) => {
                let header = v.to_str().map_err(|_| ApiError::unauthorized())?;
                actor(state, header).await.map(|a| MaybeAuth(Some(a)))
            }
        }
    }
}

async fn actor(state: &AppState, header: &str) -> Result<Actor, ApiError> {
    let user = authenticate(state, header)
        .await?
        .ok_or_else(ApiError::unauthorized)?;
    let org_shares_tickets = match (user.role, user.organization_id) {
        (Role::EndUser, Some(org)) => state
            .store
            .org(org)
            .await
            .map(|o| o.shared_tickets)
            .unwrap_or(false),
        _ => false,
    };
    Ok(Actor {
        user,
        org_shares_tickets,
    })
}

async fn authenticate(state: &AppState, header: &str) -> Result<Option<User>, ApiError> {
    let (scheme, value) = header
        .trim()
        .split_once(' ')
        .ok_or_else(ApiError::unauthorized)?;
    match scheme.to_ascii_lowercase().as_str() {
        "bearer" => Ok(state.store.user_by_token(value.trim()).await?),
        "basic" => {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(value.trim())
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(ApiError::unauthorized)?;
            let (login, secret) = decoded.split_once(':').ok_or_else(ApiError::unauthorized)?;
            match login.strip_suffix("/token") {
                Some(email) => {
                    let user = state.store.user_by_token(secret).await?;
                    Ok(user.filter(|u| {
                        u.email.as_deref() == Some(email.trim().to_lowercase().as_str())
                    }))
                }
                None => Ok(state.store.user_by_password(login, secret).await?),
            }
        }
        _ => Err(ApiError::unauthorized()),
    }
}

/// Staff only (end users get 403).
pub fn require_staff(actor: &Actor) -> Result<(), ApiError> {
    if actor.role().is_staff() {
        Ok(())
    } else {
        Err(ApiError::forbidden("this endpoint is for agents"))
    }
}

pub fn require_admin(actor: &Actor) -> Result<(), ApiError> {
    if actor.role() == Role::Admin {
        Ok(())
    } else {
        Err(ApiError::forbidden("only admins may do this"))
    }
}
