//! The `steward` binary as a user runs it: help texts, first-admin
//! bootstrap from the environment, user and token commands, and
//! `serve --demo` loading a living portfolio.

use std::{process::Stdio, time::Duration};

use serde_json::Value;
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};

use crate::helpers::fresh_database_url;

const BIN: &str = env!("CARGO_BIN_EXE_steward");

/// Starts `steward serve` on a free port and returns it with its base URL,
/// read from the "serving on" log line.
pub(crate) async fn serve(
    db: &str,
    extra: &[&str],
    env: &[(&str, &str)],
) -> (Child, String, String) {
    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--database-url", db])
        .args(extra)
        .env_remove("STEWARD_ADMIN_EMAIL")
        .env_remove("STEWARD_ADMIN_PASSWORD")
        .env_remove("STEWARD_ADMIN_API_TOKEN")
        .env_remove("STEWARD_DATABASE_URL")
        .env("STEWARD_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn steward");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut output = String::new();
    let base = tokio::time::timeout(Duration::from_secs(120), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            output.push_str(&line);
            output.push('\n');
            if let Some(i) = line.find("serving on http://") {
                let rest = &line[i + "serving on ".len()..];
                return rest
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_string();
            }
        }
        panic!("steward exited before serving:\n{output}");
    })
    .await
    .expect("steward did not start within 120 s");
    // Keep draining stdout so the child never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, base, output)
}

async fn run(args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
    let out = Command::new(BIN)
        .args(args)
        .envs(env.iter().copied())
        .env("NO_COLOR", "1")
        .output()
        .await
        .expect("run steward");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[tokio::test]
async fn every_subcommand_has_help() {
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["migrate", "--help"],
        vec!["demo", "--help"],
        vec!["user", "create", "--help"],
        vec!["user", "password", "--help"],
        vec!["token", "create", "--help"],
    ] {
        let (ok, text) = run(&args, &[]).await;
        assert!(ok && text.contains("Usage"), "{args:?}: {text}");
    }
    let (ok, text) = run(&["serve", "--listen", "not-an-address"], &[]).await;
    assert!(!ok && text.contains("invalid value"), "{text}");
}

#[tokio::test]
async fn first_start_creates_the_admin_from_the_environment() {
    let (db, _dir) = fresh_database_url().await;
    let token = "bootstrap-token-0123456789";
    let env = [
        ("STEWARD_ADMIN_EMAIL", "boss@example.com"),
        ("STEWARD_ADMIN_PASSWORD", "correct horse battery staple"),
        ("STEWARD_ADMIN_API_TOKEN", token),
    ];
    let (mut child, base, _) = serve(&db, &[], &env).await;
    let client = reqwest::Client::new();
    let me: Value = client
        .get(format!("{base}/api/v2/users/me.json"))
        .basic_auth("boss@example.com/token", Some(token))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["user"]["role"], "admin");
    let by_password = client
        .get(format!("{base}/api/v2/users/me.json"))
        .basic_auth("boss@example.com", Some("correct horse battery staple"))
        .send()
        .await
        .unwrap();
    assert_eq!(by_password.status(), 200);
    child.kill().await.unwrap();

    // The CLI adds users and tokens to the same database.
    let (ok, text) = run(
        &[
            "user",
            "create",
            "--email",
            "agent@example.com",
            "--role",
            "agent",
            "--database-url",
            &db,
        ],
        &[("STEWARD_USER_PASSWORD", "another long password")],
    )
    .await;
    assert!(ok, "{text}");
    let (ok, token2) = run(
        &[
            "token",
            "create",
            "--email",
            "agent@example.com",
            "--database-url",
            &db,
        ],
        &[],
    )
    .await;
    assert!(ok, "{token2}");
    let token2 = token2.lines().last().unwrap().trim().to_string();
    let (ok, text) = run(
        &[
            "token",
            "create",
            "--email",
            "nobody@example.com",
            "--database-url",
            &db,
        ],
        &[],
    )
    .await;
    assert!(!ok && text.contains("no user"), "{text}");

    // Restarting without the variables keeps everything and explains nothing is missing.
    let (mut child, base, _) = serve(&db, &[], &[]).await;
    let me: Value = client
        .get(format!("{base}/api/v2/users/me.json"))
        .bearer_auth(&token2)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["user"]["email"], "agent@example.com");
    child.kill().await.unwrap();
}

#[tokio::test]
async fn without_an_admin_serve_explains_how_to_create_one() {
    let (db, _dir) = fresh_database_url().await;
    let (mut child, _, output) = serve(&db, &[], &[]).await;
    assert!(
        output.contains("STEWARD_ADMIN_EMAIL") && output.contains("steward user create"),
        "{output}"
    );
    child.kill().await.unwrap();
}

#[tokio::test]
async fn serve_demo_loads_a_living_portfolio_once() {
    let (db, _dir) = fresh_database_url().await;
    let (mut child, base, output) = serve(&db, &["--demo", "--demo-tickets", "400"], &[]).await;
    let token_line = output
        .lines()
        .find(|l| l.contains("/token:"))
        .expect("demo prints an API token");
    let token = token_line
        .rsplit("/token:")
        .next()
        .unwrap()
        .trim()
        .to_string();
    let client = reqwest::Client::new();
    let get = |path: &str| {
        client
            .get(format!("{base}{path}"))
            .basic_auth("admin@steward.demo/token", Some(&token))
            .send()
    };
    let tickets: Value = get("/api/v2/tickets.json?per_page=1")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(tickets["count"].as_i64().unwrap() >= 400, "{tickets}");
    let orgs: Value = get("/api/v2/organizations.json")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let tiers: std::collections::BTreeSet<&str> = orgs["organizations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["tier"].as_str().unwrap())
        .collect();
    assert_eq!(tiers.len(), 3, "every tier is represented: {tiers:?}");
    assert!(orgs["count"].as_i64().unwrap() >= 24);
    let users: Value = get("/api/v2/users.json?per_page=100")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let roles: std::collections::BTreeSet<&str> = users["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["steward_role"].as_str().unwrap())
        .collect();
    for role in ["admin", "csm", "agent", "contractor", "viewer", "end-user"] {
        assert!(roles.contains(role), "{role} missing: {roles:?}");
    }
    for status in ["new", "open", "pending", "solved", "closed"] {
        let found: Value = get(&format!(
            "/api/v2/search.json?query=type:ticket%20status:{status}&per_page=1"
        ))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        assert!(
            found["count"].as_i64().unwrap() > 0,
            "no {status} tickets in the demo"
        );
    }
    child.kill().await.unwrap();

    // A second --demo start on the same database does not load it again.
    let (mut child, _, output) = serve(&db, &["--demo", "--demo-tickets", "400"], &[]).await;
    assert!(!output.contains("Demo data loaded"), "{output}");
    child.kill().await.unwrap();
}
