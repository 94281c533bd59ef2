//! `spawn_app()`: the real server on port 0 against a fresh database —
//! a new SQLite file, or a new PostgreSQL database when
//! `STEWARD_TEST_DATABASE_URL` names a server (CI sets it).

use std::net::SocketAddr;

use reqwest::{Client, Method, RequestBuilder, Response};
use serde_json::Value;
use steward_domain::{Email, Role};
use steward_store::{Store, UserInput};

pub struct TestApp {
    #[allow(dead_code)]
    pub addr: SocketAddr,
    pub base: String,
    pub store: Store,
    pub client: Client,
    pub admin_email: String,
    pub admin_token: String,
    pub clock: steward_web::Clock,
    /// The database the server runs on, for running the CLI against it.
    pub db_url: String,
    /// Kept so that the SQLite file outlives the test.
    _dir: Option<TempDir>,
}

pub struct TempDir(pub std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

fn unique() -> String {
    format!("{}_{:x}", std::process::id(), rand::random::<u64>())
}

/// The URL of a fresh, empty database: a new PostgreSQL database when
/// `STEWARD_TEST_DATABASE_URL` is set, else a SQLite file in a temp dir.
pub async fn fresh_database_url() -> (String, Option<TempDir>) {
    match std::env::var("STEWARD_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
    {
        Some(url) => {
            let name = format!("steward_test_{}", unique());
            let admin = Store::connect(&url)
                .await
                .expect("connect to STEWARD_TEST_DATABASE_URL");
            admin
                .execute_raw(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create test database");
            admin.close().await;
            let (head, query) = match url.split_once('?') {
                Some((h, q)) => (h.to_string(), format!("?{q}")),
                None => (url.clone(), String::new()),
            };
            let root = &head[..head.rfind('/').expect("database URL has a path")];
            (format!("{root}/{name}{query}"), None)
        }
        None => {
            let dir = std::env::temp_dir().join(format!("steward-test-{}", unique()));
            std::fs::create_dir_all(&dir).expect("temp dir");
            let path = dir
                .join("steward.db")
                .to_str()
                .expect("utf-8 path")
                .to_string();
            (path, Some(TempDir(dir)))
        }
    }
}

/// A fresh, migrated store on the configured database.
pub async fn fresh_store() -> (Store, Option<TempDir>) {
    let (store, _, dir) = fresh_store_with_url().await;
    (store, dir)
}

/// [`fresh_store`], with the database URL.
pub async fn fresh_store_with_url() -> (Store, String, Option<TempDir>) {
    let (url, dir) = fresh_database_url().await;
    let store = Store::connect(&url)
        .await
        .expect("connect to the test database");
    store.migrate().await.expect("migrate");
    (store, url, dir)
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with_clock(steward_web::Clock::system()).await
}

/// The server with a clock the test moves (`app.clock.set(t)`); the
/// background workers are not started, so tests fire the SLA scheduler
/// themselves with `app.store.fire_due_sla(now, ..)`.
pub async fn spawn_app_with_clock(clock: steward_web::Clock) -> TestApp {
    let (store, db_url, dir) = fresh_store_with_url().await;
    let admin_email = "admin@example.com".to_string();
    let admin = store
        .create_user(
            UserInput {
                name: Some("Ada Admin".into()),
                email: Some(Email::parse(&admin_email).unwrap()),
                role: Some(Role::Admin),
                ..Default::default()
            },
            now(),
        )
        .await
        .unwrap();
    let admin_token = steward_store::auth::generate_token();
    store
        .add_api_token(admin.id, &admin_token, "tests", now())
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut state = steward_web::AppState::new(store.clone());
    state.clock = clock.clone();
    tokio::spawn(async move {
        steward_web::serve(listener, state, std::future::pending())
            .await
            .unwrap();
    });
    TestApp {
        addr,
        base: format!("http://{addr}"),
        store,
        client: Client::new(),
        admin_email,
        admin_token,
        clock,
        db_url,
        _dir: dir,
    }
}

impl TestApp {
    /// A request authenticated as `email` with `token` (Zendesk basic auth).
    pub fn request_as(
        &self,
        method: Method,
        path: &str,
        email: &str,
        token: &str,
    ) -> RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.base))
            .basic_auth(format!("{email}/token"), Some(token))
    }

    pub fn admin(&self, method: Method, path: &str) -> RequestBuilder {
        self.request_as(method, path, &self.admin_email, &self.admin_token)
    }

    pub async fn get_json(&self, path: &str) -> Value {
        json_of(self.admin(Method::GET, path).send().await.unwrap(), 200).await
    }

    pub async fn post_json(&self, path: &str, body: Value) -> Value {
        json_of(
            self.admin(Method::POST, path)
                .json(&body)
                .send()
                .await
                .unwrap(),
            201,
        )
        .await
    }

    pub async fn put_json(&self, path: &str, body: Value) -> Value {
        json_of(
            self.admin(Method::PUT, path)
                .json(&body)
                .send()
                .await
                .unwrap(),
            200,
        )
        .await
    }

    /// Creates a user with a role (and organization) and returns (id, email, token).
    pub async fn user_with_token(&self, role: Role, org: Option<i64>) -> (i64, String, String) {
        let email = format!("{}-{}@example.com", role.as_str(), unique());
        let user = self
            .store
            .create_user(
                UserInput {
                    name: Some(format!("Test {}", role.as_str())),
                    email: Some(Email::parse(&email).unwrap()),
                    role: Some(role),
                    organization_id: Some(org),
                    ..Default::default()
                },
                now(),
            )
            .await
            .unwrap();
        let token = steward_store::auth::generate_token();
        self.store
            .add_api_token(user.id, &token, "tests", now())
            .await
            .unwrap();
        (user.id, email, token)
    }

    pub async fn org(&self, name: &str, shared: bool) -> i64 {
        let body = serde_json::json!({"organization": {"name": name, "shared_tickets": shared}});
        self.post_json("/api/v2/organizations.json", body).await["organization"]["id"]
            .as_i64()
            .unwrap()
    }
}

/// Asserts the status and returns the JSON body, showing it on failure.
pub async fn json_of(resp: Response, status: u16) -> Value {
    let got = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    assert_eq!(got, status, "unexpected status; body: {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}
