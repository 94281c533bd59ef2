//! The HTTP load loop: `concurrency` workers share one request counter and
//! stop when `requests` have been sent or the time limit has passed,
//! whichever comes first. Every request's full latency (send to last body
//! byte) is recorded, errors included.

use std::{
    collections::BTreeMap,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use rand::{SeedableRng, rngs::StdRng};
use reqwest::{Client, RequestBuilder};
use tokio::sync::Mutex;

/// One request to send: a label (for per-kind figures) and the request.
pub struct Req {
    pub kind: &'static str,
    pub request: RequestBuilder,
}

#[derive(Default)]
struct Shared {
    latencies: BTreeMap<&'static str, Vec<Duration>>,
    errors: usize,
    error_samples: Vec<String>,
}

pub struct Outcome {
    pub name: String,
    pub elapsed: Duration,
    pub errors: usize,
    pub error_samples: Vec<String>,
    /// Latencies per request kind; `all` holds every request.
    pub latencies: BTreeMap<&'static str, Vec<Duration>>,
    pub stopped_by_time: bool,
}

pub struct Stats {
    pub requests: usize,
    pub p50: Duration,
    pub p99: Duration,
    pub max: Duration,
}

/// Nearest-rank percentiles of `v` (sorted in place).
pub fn stats(v: &mut [Duration]) -> Stats {
    v.sort_unstable();
    let at = |p: f64| {
        if v.is_empty() {
            Duration::ZERO
        } else {
            let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
            v[rank.clamp(1, v.len()) - 1]
        }
    };
    Stats {
        requests: v.len(),
        p50: at(50.0),
        p99: at(99.0),
        max: v.last().copied().unwrap_or_default(),
    }
}

/// Runs `make(i, rng)` for `i` in `0..requests` on `concurrency` workers.
pub async fn run<F>(
    name: &str,
    client: &Client,
    requests: usize,
    concurrency: usize,
    limit: Duration,
    make: F,
) -> Outcome
where
    F: Fn(&Client, usize, &mut StdRng) -> Req + Send + Sync + 'static,
{
    let make = Arc::new(make);
    let next = Arc::new(AtomicUsize::new(0));
    let shared = Arc::new(Mutex::new(Shared::default()));
    let started = Instant::now();
    let deadline = started + limit;
    let mut workers = Vec::new();
    for w in 0..concurrency.max(1) {
        let (make, next, shared, client) =
            (make.clone(), next.clone(), shared.clone(), client.clone());
        workers.push(tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(0xBE7C_0000 + w as u64);
            let mut mine: BTreeMap<&'static str, Vec<Duration>> = BTreeMap::new();
            let mut errors = 0usize;
            let mut samples = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= requests || Instant::now() >= deadline {
                    break;
                }
                let req = make(&client, i, &mut rng);
                let t0 = Instant::now();
                let outcome = match req.request.send().await {
                    Ok(resp) => {
                        let status = resp.status();
                        match resp.bytes().await {
                            Ok(_) if status.is_success() => Ok(()),
                            Ok(body) => Err(format!(
                                "{} {status}: {}",
                                req.kind,
                                String::from_utf8_lossy(&body[..body.len().min(300)])
                            )),
                            Err(e) => Err(format!("{} reading body: {e}", req.kind)),
                        }
                    }
                    Err(e) => Err(format!("{}: {e}", req.kind)),
                };
                let dt = t0.elapsed();
                mine.entry(req.kind).or_default().push(dt);
                mine.entry("all").or_default().push(dt);
                if let Err(e) = outcome {
                    errors += 1;
                    if samples.len() < 3 {
                        samples.push(e);
                    }
                }
            }
            let mut s = shared.lock().await;
            for (k, v) in mine {
                s.latencies.entry(k).or_default().extend(v);
            }
            s.errors += errors;
            for e in samples {
                if s.error_samples.len() < 5 {
                    s.error_samples.push(e);
                }
            }
        }));
    }
    for w in workers {
        // A worker cannot panic short of a bug; count it as lost requests.
        let _ = w.await;
    }
    let elapsed = started.elapsed();
    let mut s = shared.lock().await;
    Outcome {
        name: name.to_string(),
        elapsed,
        errors: s.errors,
        error_samples: std::mem::take(&mut s.error_samples),
        latencies: std::mem::take(&mut s.latencies),
        stopped_by_time: Instant::now() >= deadline && next.load(Ordering::Relaxed) < requests,
    }
}
