//! Who is looking: the session cookie, the role gates, and posted forms
//! with their CSRF check.
//!
//! - The cookie `steward_session` is HttpOnly, `SameSite=Lax` and `Secure`
//!   unless the configured public URL is plain `http://` (browsers accept
//!   Secure cookies from loopback addresses, so a default local install
//!   works; a plain-HTTP install on another address sets
//!   `STEWARD_PUBLIC_URL=http://…`).
//! - Every form carries the session's CSRF token in the field `csrf`;
//!   [`Posted`] refuses a post without it (403) before the handler runs, so
//!   no handler can forget. Forms shown before sign-in (password sign-in,
//!   portal link) use a double-submit cookie instead ([`login_csrf`]).
//! - [`Staff`] pages send anonymous visitors to `/login?next=…` and
//!   customers to the portal; [`Customer`] pages send anonymous visitors to
//!   the portal's sign-in.

use axum::{
    body::Bytes,
    extract::{FromRequest, FromRequestParts, Request},
    http::{HeaderMap, StatusCode, header, request::Parts},
};
use steward_domain::Role;
use steward_store::sessions::WebSession;

use super::page::UiError;
use crate::AppState;

pub const SESSION_COOKIE: &str = "steward_session";
pub const LOGIN_CSRF_COOKIE: &str = "steward_login_csrf";

/// The value of a cookie from the request headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value for this deployment.
pub fn set_cookie(state: &AppState, name: &str, value: &str, max_age: Option<i64>) -> String {
    let secure = match state.public_url.as_deref() {
        Some(u) => !u.starts_with("http://"),
        None => true,
    };
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if secure {
        c.push_str("; Secure");
    }
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    c
}

pub fn clear_cookie(state: &AppState, name: &str) -> String {
    set_cookie(state, name, "", Some(0))
}

/// The session behind the request's cookie, if it is live.
async fn current(headers: &HeaderMap, state: &AppState) -> Result<Option<WebSession>, UiError> {
    let Some(token) = cookie(headers, SESSION_COOKIE).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    Ok(state.store.session(token, state.now()).await?)
}

fn login_redirect(uri: &axum::http::Uri, portal: bool) -> UiError {
    let next = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let next: String = form_urlencoded::byte_serialize(next.as_bytes()).collect();
    if portal {
        UiError::Redirect(format!("/portal/login?next={next}"))
    } else {
        UiError::Redirect(format!("/login?next={next}"))
    }
}

/// A signed-in member of staff (any staff role; pages check finer rights).
pub struct Staff(pub WebSession);

impl FromRequestParts<AppState> for Staff {
    type Rejection = UiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, UiError> {
        match current(&parts.headers, state).await? {
            Some(s) if s.actor.role().is_staff() => Ok(Staff(s)),
            Some(_) => Err(UiError::Redirect("/portal".into())),
            None => Err(login_redirect(&parts.uri, false)),
        }
    }
}

/// A signed-in customer contact (end user).
pub struct Customer(pub WebSession);

impl FromRequestParts<AppState> for Customer {
    type Rejection = UiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, UiError> {
        match current(&parts.headers, state).await? {
            Some(s) if s.actor.role() == Role::EndUser => Ok(Customer(s)),
            Some(_) => Err(UiError::Redirect("/queue".into())),
            None => Err(login_redirect(&parts.uri, true)),
        }
    }
}

/// Anyone, signed in or not (public knowledge-base pages, sign-in pages).
pub struct MaybeSignedIn(pub Option<WebSession>);

impl FromRequestParts<AppState> for MaybeSignedIn {
    type Rejection = UiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, UiError> {
        Ok(MaybeSignedIn(current(&parts.headers, state).await?))
    }
}

/// An `application/x-www-form-urlencoded` body.
#[derive(Debug, Default, Clone)]
pub struct Fields(pub Vec<(String, String)>);

impl Fields {
    pub fn parse(body: &[u8]) -> Result<Fields, UiError> {
        let pairs: Vec<(String, String)> = form_urlencoded::parse(body)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        if pairs
            .iter()
            .any(|(k, v)| k.contains('\0') || v.contains('\0'))
        {
            return Err(UiError::bad_request(
                "The form must not contain NUL characters.",
            ));
        }
        Ok(Fields(pairs))
    }

    /// The first value of `name`, trimmed; empty counts as absent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// The first value of `name` exactly as sent (passwords, bodies).
    pub fn raw(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    }

    /// Every non-empty value of `name` (multi-selects, checkboxes).
    #[allow(dead_code)] // the ticket and admin pages use it
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
            .collect()
    }

    /// An optional positive id.
    #[allow(dead_code)] // the ticket and admin pages use it
    pub fn id(&self, name: &str) -> Result<Option<i64>, UiError> {
        self.get(name)
            .map(|v| {
                crate::extract::parse_id(v)
                    .ok_or_else(|| UiError::bad_request(format!("{name} must be an id")))
            })
            .transpose()
    }
}

async fn read_body(req: Request, state: &AppState) -> Result<Bytes, UiError> {
    Bytes::from_request(req, state).await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            UiError::Page {
                status: StatusCode::PAYLOAD_TOO_LARGE,
                title: "Too large",
                message: format!("Forms are limited to {} bytes.", crate::MAX_BODY_BYTES),
            }
        } else {
            UiError::bad_request("The form could not be read.")
        }
    })
}

/// A form posted by a signed-in user, its CSRF token checked.
pub struct Posted {
    pub session: WebSession,
    pub fields: Fields,
}

impl FromRequest<AppState> for Posted {
    type Rejection = UiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, UiError> {
        let Some(session) = current(req.headers(), state).await? else {
            let portal = req.uri().path().starts_with("/portal");
            return Err(login_redirect(req.uri(), portal));
        };
        let bytes = read_body(req, state).await?;
        let fields = Fields::parse(&bytes)?;
        if !constant_time_eq(fields.raw("csrf"), &session.csrf) {
            return Err(csrf_refused());
        }
        Ok(Posted { session, fields })
    }
}

impl Posted {
    pub fn require_staff(&self) -> Result<(), UiError> {
        if self.session.actor.role().is_staff() {
            Ok(())
        } else {
            Err(UiError::not_found())
        }
    }
}

/// A form posted before sign-in, checked against the double-submit cookie.
pub struct PublicForm(pub Fields);

impl FromRequest<AppState> for PublicForm {
    type Rejection = UiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, UiError> {
        let expected = cookie(req.headers(), LOGIN_CSRF_COOKIE)
            .unwrap_or_default()
            .to_string();
        let bytes = read_body(req, state).await?;
        let fields = Fields::parse(&bytes)?;
        if expected.is_empty() || !constant_time_eq(fields.raw("csrf"), &expected) {
            return Err(csrf_refused());
        }
        Ok(PublicForm(fields))
    }
}

fn csrf_refused() -> UiError {
    UiError::forbidden(
        "This form has expired or did not come from Steward. Reload the page and try again.",
    )
}

/// The token a pre-sign-in form carries, reusing the browser's cookie when
/// it has one; returns the token and, when new, the cookie to set.
pub fn login_csrf(headers: &HeaderMap, state: &AppState) -> (String, Option<String>) {
    match cookie(headers, LOGIN_CSRF_COOKIE).filter(|c| c.len() >= 32) {
        Some(c) => (c.to_string(), None),
        None => {
            let t = steward_store::auth::generate_token();
            let c = set_cookie(state, LOGIN_CSRF_COOKIE, &t, None);
            (t, Some(c))
        }
    }
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// A `next=` target that stays on this site.
pub fn safe_next(next: Option<&str>, default: &str) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => default.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_targets_stay_on_site() {
        assert_eq!(safe_next(Some("/queue?view=mine"), "/"), "/queue?view=mine");
        assert_eq!(safe_next(Some("//evil.example"), "/"), "/");
        assert_eq!(safe_next(Some("https://evil.example"), "/"), "/");
        assert_eq!(safe_next(Some("/\\evil.example"), "/"), "/");
        assert_eq!(safe_next(None, "/queue"), "/queue");
    }

    #[test]
    fn cookies_are_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            "a=1; steward_session=xyz; b=2".parse().unwrap(),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("xyz"));
        assert_eq!(cookie(&h, "c"), None);
    }

    #[test]
    fn fields_parse_and_refuse_nul() {
        let f = Fields::parse(b"a=1&b=+x+&c=&tag=p&tag=q").unwrap();
        assert_eq!(f.get("a"), Some("1"));
        assert_eq!(f.get("b"), Some("x"));
        assert_eq!(f.get("c"), None);
        assert_eq!(f.all("tag"), ["p", "q"]);
        assert!(Fields::parse(b"a=%00").is_err());
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "ab"));
    }
}
