//! The real Zendesk client against the real server: `tests/zenpy/e2e.py`
//! drives a fresh Steward with the Python package `zenpy` — organization,
//! end user, tickets, public and internal comments, status and priority
//! changes, bulk create/update, list, show_many and search — through zenpy's
//! ordinary methods only, and fails on the first mismatch.
//!
//! zenpy comes from the machine's `python3` when it imports there; otherwise
//! the pinned version is installed once into the build directory
//! (`CARGO_TARGET_TMPDIR`), under a file lock because tests run in parallel
//! threads and `cargo test` runs may overlap. Without `python3` the test is
//! skipped with a message, unless `STEWARD_REQUIRE_ZENPY=1` (CI sets it).

use std::{
    fs::{self, File},
    io::ErrorKind,
    path::{Path, PathBuf},
    process::{Command as StdCommand, Output},
    time::Duration,
};

use tokio::process::Command;

use crate::helpers::spawn_app;

const ZENPY_VERSION: &str = "2.0.57";

/// Generous: the script makes a few hundred requests to a debug build.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(300);

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/zenpy/e2e.py")
}

fn show(out: &Output) -> String {
    format!(
        "status: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Whether `python3` (with `PYTHONPATH` = `path`, if given) imports zenpy.
/// `None` when there is no `python3` at all.
fn imports_zenpy(path: Option<&Path>) -> Option<bool> {
    let mut cmd = StdCommand::new("python3");
    cmd.args(["-c", "import zenpy"]);
    if let Some(p) = path {
        cmd.env("PYTHONPATH", p);
    }
    match cmd.output() {
        Ok(out) => Some(out.status.success()),
        Err(e) if e.kind() == ErrorKind::NotFound => None,
        Err(e) => panic!("could not run python3: {e}"),
    }
}

/// Where the script's `python3` finds zenpy: `Some(None)` when it is
/// already importable, `Some(Some(dir))` for a directory to put on
/// `PYTHONPATH`, and `None` when there is no `python3`.
fn zenpy_path() -> Option<Option<PathBuf>> {
    if imports_zenpy(None)? {
        return Some(None);
    }
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let dir = tmp.join(format!("zenpy-{ZENPY_VERSION}"));
    // Written only after a complete install, so its presence means the
    // directory is usable; a crashed install leaves no marker and is redone.
    let marker = dir.join(".steward-installed");
    if !marker.exists() {
        fs::create_dir_all(tmp).expect("create CARGO_TARGET_TMPDIR");
        let lock = File::create(tmp.join(format!("zenpy-{ZENPY_VERSION}.lock")))
            .expect("create the zenpy install lock file");
        // Blocks while another thread or process installs; it then finds the
        // marker and skips the install.
        lock.lock().expect("lock the zenpy install lock file");
        if !marker.exists() {
            if dir.exists() {
                fs::remove_dir_all(&dir).expect("remove a partial zenpy install");
            }
            println!(
                "zenpy test: installing zenpy=={ZENPY_VERSION} into {}",
                dir.display()
            );
            let out = StdCommand::new("python3")
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                ])
                .arg("--target")
                .arg(&dir)
                .arg(format!("zenpy=={ZENPY_VERSION}"))
                .output()
                .expect("run python3 -m pip");
            assert!(
                out.status.success(),
                "installing zenpy=={ZENPY_VERSION} with pip failed (is pip available, and PyPI \
                 reachable? installing zenpy for python3 by hand also works)\n{}",
                show(&out)
            );
            fs::write(&marker, ZENPY_VERSION).expect("write the zenpy install marker");
        }
        lock.unlock().expect("unlock the zenpy install lock file");
    }
    assert_eq!(
        imports_zenpy(Some(&dir)),
        Some(true),
        "zenpy is installed in {} but python3 cannot import it from there",
        dir.display()
    );
    Some(Some(dir))
}

#[tokio::test]
async fn zenpy_drives_the_api_end_to_end() {
    let Some(pythonpath) = tokio::task::spawn_blocking(zenpy_path).await.unwrap() else {
        let required = std::env::var("STEWARD_REQUIRE_ZENPY").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "python3 is not installed, and STEWARD_REQUIRE_ZENPY=1 requires the zenpy test"
        );
        println!("zenpy test skipped: python3 is not installed");
        return;
    };

    let app = spawn_app().await;
    let mut cmd = Command::new("python3");
    cmd.arg(script())
        .env("ZENPY_FORCE_NETLOC", app.addr.to_string())
        .env("ZENPY_FORCE_SCHEME", "http")
        .env("STEWARD_ZENPY_EMAIL", &app.admin_email)
        .env("STEWARD_ZENPY_TOKEN", &app.admin_token)
        // The server is local: a proxy configured for the user must not
        // see these requests.
        .env("no_proxy", "127.0.0.1,localhost")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .kill_on_drop(true);
    if let Some(dir) = pythonpath {
        let mut paths = vec![dir];
        if let Some(existing) = std::env::var_os("PYTHONPATH") {
            paths.extend(std::env::split_paths(&existing));
        }
        cmd.env("PYTHONPATH", std::env::join_paths(paths).unwrap());
    }
    let out = tokio::time::timeout(SCRIPT_TIMEOUT, cmd.output())
        .await
        .unwrap_or_else(|_| panic!("{} ran longer than {SCRIPT_TIMEOUT:?}", script().display()))
        .expect("run python3");
    assert!(
        out.status.success(),
        "the zenpy script failed against the server\n{}",
        show(&out)
    );
    // Shown with `--nocapture`: which steps ran.
    print!("{}", String::from_utf8_lossy(&out.stdout));
}
