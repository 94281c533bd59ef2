//! Credentials: argon2 password hashes and API tokens stored as SHA-256
//! digests (a token is a random secret, so a fast hash is enough and keeps
//! per-request authentication cheap; passwords need the slow one).

use argon2::{
    Argon2, PasswordHash, PasswordHasher, PasswordVerifier,
    password_hash::{SaltString, rand_core::OsRng},
};
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::{
    Store,
    db::corrupt,
    error::{Result, StoreError},
    users::{USER_COLUMNS, User, user_from_row},
};

pub fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| corrupt("password hash", e))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A new random API token: 32 bytes, URL-safe base64.
pub fn generate_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub(crate) fn token_digest(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Minimum length of a password set through the API or CLI.
pub const MIN_PASSWORD_LEN: usize = 10;

impl Store {
    /// Registers `token` for the user. Registering the same string twice is
    /// a conflict, not a silent duplicate.
    pub async fn add_api_token(
        &self,
        user_id: i64,
        token: &str,
        description: &str,
        now: i64,
    ) -> Result<i64> {
        if token.len() < 16 {
            return Err(StoreError::invalid(
                "token",
                "must be at least 16 characters",
            ));
        }
        let row = sqlx::query(
            "INSERT INTO api_tokens (user_id, token_sha256, description, created_at)
             VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(user_id)
        .bind(token_digest(token))
        .bind(description)
        .bind(now)
        .fetch_one(&self.write)
        .await
        .map_err(|e| {
            let e = StoreError::from(e);
            if e.is_unique_violation() {
                StoreError::Conflict("token already registered".into())
            } else {
                e
            }
        })?;
        self.make_durable().await?;
        Ok(row.try_get("id")?)
    }

    /// The active user owning `token`, if any.
    pub async fn user_by_token(&self, token: &str) -> Result<Option<User>> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM api_tokens k JOIN users u ON u.id = k.user_id
             WHERE k.token_sha256 = $1 AND u.active = 1 AND u.suspended = 0"
        );
        let mut conn = self.reader().await?;
        let row = sqlx::query(&sql)
            .bind(token_digest(token))
            .fetch_optional(&mut *conn)
            .await?;
        row.map(|r| user_from_row(&r)).transpose()
    }

    /// The active user with this e-mail and password, if both match.
    pub async fn user_by_password(&self, email: &str, password: &str) -> Result<Option<User>> {
        let sql = format!(
            "SELECT {USER_COLUMNS}, u.password_hash FROM users u
             WHERE u.email = $1 AND u.active = 1 AND u.suspended = 0"
        );
        let mut conn = self.reader().await?;
        let Some(row) = sqlx::query(&sql)
            .bind(email.trim().to_lowercase())
            .fetch_optional(&mut *conn)
            .await?
        else {
            return Ok(None);
        };
        let hash: Option<String> = row.try_get("password_hash")?;
        match hash {
            Some(h) if verify_password(password, &h) => Ok(Some(user_from_row(&row)?)),
            _ => Ok(None),
        }
    }

    pub async fn set_password(&self, user_id: i64, password: &str, now: i64) -> Result<()> {
        if password.chars().count() < MIN_PASSWORD_LEN {
            return Err(StoreError::invalid(
                "password",
                format!("must be at least {MIN_PASSWORD_LEN} characters"),
            ));
        }
        let hash = hash_password(password)?;
        let done =
            sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
                .bind(hash)
                .bind(now)
                .bind(user_id)
                .execute(&self.write)
                .await?;
        self.make_durable().await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("user"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_round_trip() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("wrong", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn tokens_are_random_and_digested() {
        let (a, b) = (generate_token(), generate_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(token_digest("abc").len(), 64);
    }
}
