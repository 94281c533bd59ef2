//! End-to-end tests in a real browser: Debian's headless Chromium driven by
//! its chromedriver over the W3C WebDriver protocol.
//!
//! The client below speaks the few WebDriver commands the tests need over
//! HTTP with `reqwest` (already a test dependency): new session, navigate,
//! find elements, click, type, read text and attributes, run a script,
//! take a screenshot. The full-featured crates (`fantoccini`, `thirtyfour`)
//! would pull in a second HTTP stack and the `webdriver` crate's tree for
//! what is a dozen JSON calls.
//!
//! Each test starts its own chromedriver (port 0 is not supported, so a
//! free port is found first) and at most two browsers run at once on the
//! two-core machine. Without `/usr/bin/chromedriver` the tests skip with a
//! message, unless `STEWARD_REQUIRE_BROWSER=1` (CI sets it), when they fail.
//! Screenshots go to `target/screenshots/` (or `STEWARD_SCREENSHOTS`).

mod admin;
mod dashboards;
mod hub;
mod kb;
mod portal;
mod survey;
mod ticket;
mod workspace;

use std::{path::PathBuf, process::Stdio, time::Duration};

use serde_json::{Value, json};
use tokio::sync::{Semaphore, SemaphorePermit};

use crate::helpers::TestApp;

static BROWSERS: Semaphore = Semaphore::const_new(2);

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

pub struct Browser {
    http: reqwest::Client,
    /// `http://127.0.0.1:PORT/session/ID`
    session: String,
    driver: std::process::Child,
    _permit: SemaphorePermit<'static>,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap()
}

pub fn screenshot_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("STEWARD_SCREENSHOTS") {
        return PathBuf::from(d);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    target.join("screenshots")
}

impl Browser {
    /// A headless Chromium, or `None` (test skipped) when none is installed.
    pub async fn start() -> Option<Browser> {
        if !std::path::Path::new(CHROMEDRIVER).exists() {
            if std::env::var("STEWARD_REQUIRE_BROWSER").is_ok_and(|v| v == "1") {
                panic!(
                    "STEWARD_REQUIRE_BROWSER=1 but {CHROMEDRIVER} is missing (apt install chromium chromium-driver)"
                );
            }
            eprintln!("skipping the browser test: {CHROMEDRIVER} is not installed");
            return None;
        }
        let permit = BROWSERS.acquire().await.unwrap();
        let port = free_port();
        let driver = std::process::Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        // chromedriver takes a moment to listen.
        for _ in 0..100 {
            if http.get(format!("{base}/status")).send().await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": ["--headless", "--no-sandbox", "--disable-gpu",
                         "--disable-background-networking", "--disable-component-update",
                         "--no-first-run", "--disable-dev-shm-usage", "--window-size=1366,900"]
            }
        }}});
        let resp: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .await
            .expect("create a WebDriver session")
            .json()
            .await
            .unwrap();
        let id = resp["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {resp}"))
            .to_string();
        let mut b = Browser {
            http,
            session: format!("{base}/session/{id}"),
            driver,
            _permit: permit,
        };
        b.cmd(
            "POST",
            "/timeouts",
            json!({"implicit": 3000, "pageLoad": 30000}),
        )
        .await;
        Some(b)
    }

    async fn cmd(&mut self, method: &str, path: &str, body: Value) -> Value {
        let url = format!("{}{path}", self.session);
        let req = match method {
            "GET" => self.http.get(url),
            "DELETE" => self.http.delete(url),
            _ => self.http.post(url).json(&body),
        };
        let resp: Value = req.send().await.unwrap().json().await.unwrap();
        if resp["value"].get("error").is_some() {
            panic!("WebDriver {method} {path} failed: {}", resp["value"]);
        }
        resp["value"].clone()
    }

    pub async fn goto(&mut self, url: &str) {
        self.cmd("POST", "/url", json!({ "url": url })).await;
    }

    pub async fn url(&mut self) -> String {
        self.cmd("GET", "/url", Value::Null)
            .await
            .as_str()
            .unwrap()
            .to_string()
    }

    pub async fn title(&mut self) -> String {
        self.cmd("GET", "/title", Value::Null)
            .await
            .as_str()
            .unwrap()
            .to_string()
    }

    /// The first element matching a CSS selector (waits up to 3 s).
    pub async fn find(&mut self, css: &str) -> Element {
        let v = self
            .cmd(
                "POST",
                "/element",
                json!({"using": "css selector", "value": css}),
            )
            .await;
        Element(element_id(&v))
    }

    pub async fn find_all(&mut self, css: &str) -> Vec<Element> {
        let v = self
            .cmd(
                "POST",
                "/elements",
                json!({"using": "css selector", "value": css}),
            )
            .await;
        v.as_array()
            .unwrap()
            .iter()
            .map(|e| Element(element_id(e)))
            .collect()
    }

    pub async fn click(&mut self, e: &Element) {
        self.cmd("POST", &format!("/element/{}/click", e.0), json!({}))
            .await;
    }

    pub async fn type_into(&mut self, e: &Element, text: &str) {
        self.cmd(
            "POST",
            &format!("/element/{}/value", e.0),
            json!({ "text": text }),
        )
        .await;
    }

    pub async fn clear(&mut self, e: &Element) {
        self.cmd("POST", &format!("/element/{}/clear", e.0), json!({}))
            .await;
    }

    pub async fn text(&mut self, e: &Element) -> String {
        self.cmd("GET", &format!("/element/{}/text", e.0), Value::Null)
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    #[allow(dead_code)] // for tests that read attributes
    pub async fn attr(&mut self, e: &Element, name: &str) -> Option<String> {
        self.cmd(
            "GET",
            &format!("/element/{}/attribute/{name}", e.0),
            Value::Null,
        )
        .await
        .as_str()
        .map(str::to_string)
    }

    /// Types text into the field with this CSS selector.
    pub async fn fill(&mut self, css: &str, text: &str) {
        let e = self.find(css).await;
        self.clear(&e).await;
        self.type_into(&e, text).await;
    }

    pub async fn click_css(&mut self, css: &str) {
        let e = self.find(css).await;
        self.click(&e).await;
    }

    pub async fn text_of(&mut self, css: &str) -> String {
        let e = self.find(css).await;
        self.text(&e).await
    }

    /// The page's visible text, read in one call (finding `body` and then
    /// reading it could straddle a navigation and fail as stale).
    pub async fn body_text(&mut self) -> String {
        self.script("return document.body ? document.body.innerText : '';")
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub async fn script(&mut self, js: &str) -> Value {
        self.cmd("POST", "/execute/sync", json!({"script": js, "args": []}))
            .await
    }

    /// Presses keys on the focused element (WebDriver key actions).
    pub async fn keys(&mut self, keys: &str) {
        let actions: Vec<Value> = keys
            .chars()
            .flat_map(|c| {
                [
                    json!({"type": "keyDown", "value": c.to_string()}),
                    json!({"type": "keyUp", "value": c.to_string()}),
                ]
            })
            .collect();
        self.cmd(
            "POST",
            "/actions",
            json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]}),
        )
        .await;
    }

    /// Waits until the page's text contains `needle` (up to 10 s).
    pub async fn wait_for_text(&mut self, needle: &str) -> String {
        let mut text = String::new();
        for _ in 0..100 {
            text = self.body_text().await;
            if text.contains(needle) {
                return text;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{needle:?} never appeared; the page says:\n{text}");
    }

    /// Saves a PNG of the viewport under the screenshot directory.
    pub async fn screenshot(&mut self, name: &str) {
        use base64::Engine;
        let v = self.cmd("GET", "/screenshot", Value::Null).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(v.as_str().unwrap())
            .unwrap();
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    /// Signs in through the login form.
    pub async fn sign_in(&mut self, app: &TestApp, email: &str, password: &str) {
        self.goto(&format!("{}/login", app.base)).await;
        self.fill("#f-email", email).await;
        self.fill("#f-password", password).await;
        self.click_css("button[type=submit].primary").await;
    }

    /// Accessibility basics of the current page: a title, a label for
    /// every visible form field, one `h1`, and a visible focus style on
    /// the first focusable element.
    pub async fn check_accessibility(&mut self) {
        let title = self.title().await;
        assert!(
            title.ends_with("· Steward") && title.len() > 10,
            "page title: {title:?}"
        );
        let unlabelled = self
            .script(
                r#"return Array.from(document.querySelectorAll('input, select, textarea'))
                    .filter(e => e.type !== 'hidden' && e.type !== 'submit' && e.offsetParent !== null)
                    .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
                    .map(e => e.outerHTML);"#,
            )
            .await;
        assert_eq!(unlabelled, json!([]), "form fields without a label");
        let h1 = self
            .script("return document.querySelectorAll('h1').length;")
            .await;
        assert_eq!(h1, json!(1), "one h1 per page");
        // Tab from the top of the page and read the focused element's outline.
        self.script(
            "document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0);",
        )
        .await;
        self.keys("\u{E004}").await;
        let outline = self
            .script(
                r#"const e = document.activeElement;
                   if (!e || e === document.body) return 'nothing focused';
                   const s = getComputedStyle(e);
                   return s.outlineStyle + ' ' + s.outlineWidth;"#,
            )
            .await;
        let outline = outline.as_str().unwrap_or_default().to_string();
        assert!(
            !outline.starts_with("none")
                && !outline.starts_with("nothing")
                && !outline.ends_with(" 0px"),
            "keyboard focus is not visible: {outline}"
        );
    }
}

pub struct Element(String);

fn element_id(v: &Value) -> String {
    v.as_object()
        .and_then(|o| o.values().next())
        .and_then(|id| id.as_str())
        .unwrap_or_else(|| panic!("not an element: {v}"))
        .to_string()
}
