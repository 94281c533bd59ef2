//! Micro-benchmark of the business-hours engine (policies.md §2, product.md
//! "fast"): `add_open` computations per second on one thread, for random
//! starts over 2026-2027 and random targets up to 10 business days, on the
//! built-in calendars with a US holiday list.
//!
//! ```sh
//! cargo run --release -p steward-domain --example calendar_bench
//! ```
//!
//! Inputs are drawn up front from a seeded RNG, so every run times the same
//! work and the RNG is not part of the figure.

use std::{hint::black_box, time::Instant};

use jiff::{Timestamp, civil::Date};
use rand::{Rng, SeedableRng, rngs::StdRng};
use steward_domain::Calendar;

const CASES: usize = 1_000_000;
const ROUNDS: usize = 5;

const HOLIDAYS: [&str; 20] = [
    "2026-01-01",
    "2026-01-19",
    "2026-02-16",
    "2026-05-25",
    "2026-07-03",
    "2026-09-07",
    "2026-11-26",
    "2026-11-27",
    "2026-12-24",
    "2026-12-25",
    "2027-01-01",
    "2027-01-18",
    "2027-02-15",
    "2027-05-31",
    "2027-07-05",
    "2027-09-06",
    "2027-11-25",
    "2027-11-26",
    "2027-12-24",
    "2027-12-31",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let holidays = HOLIDAYS
        .iter()
        .map(|d| d.parse::<Date>())
        .collect::<Result<Vec<_>, _>>()?;
    let lo = "2026-01-01T00:00:00Z".parse::<Timestamp>()?.as_second();
    let hi = "2028-01-01T00:00:00Z".parse::<Timestamp>()?.as_second();
    let mut rng = StdRng::seed_from_u64(0x5EED_CA1E);
    println!(
        "calendar_bench: {CASES} add_open per round, best of {ROUNDS}, one thread, {} holidays",
        holidays.len()
    );
    for name in ["business", "extended", "24x7"] {
        let built = Instant::now();
        let cal = Calendar::builtin(name)?.with_holidays(&holidays);
        let build_us = built.elapsed().as_secs_f64() * 1e6;
        let max = 10 * cal.working_day_seconds();
        let inputs: Vec<(Timestamp, i64)> = (0..CASES)
            .map(|_| {
                let start = Timestamp::from_second(rng.gen_range(lo..hi))?;
                Ok((start, rng.gen_range(0..=max)))
            })
            .collect::<Result<_, jiff::Error>>()?;
        let mut best = f64::MAX;
        let mut checksum = 0i64;
        for _ in 0..ROUNDS {
            let started = Instant::now();
            for &(start, secs) in &inputs {
                let due = cal.add_open(black_box(start), black_box(secs))?;
                checksum = checksum.wrapping_add(due.as_second());
            }
            best = best.min(started.elapsed().as_secs_f64());
        }
        let mut best_between = f64::MAX;
        for _ in 0..ROUNDS {
            let started = Instant::now();
            for &(start, secs) in &inputs {
                let end = Timestamp::from_second(start.as_second() + 2 * secs)?;
                let open = cal.open_between(black_box(start), black_box(end));
                checksum = checksum.wrapping_add(open);
            }
            best_between = best_between.min(started.elapsed().as_secs_f64());
        }
        println!(
            "{name:>9}: {:>11.0} add_open/s ({:.0} ns each), {:>11.0} open_between/s, \
             built in {build_us:.0} µs (checksum {checksum})",
            CASES as f64 / best,
            best * 1e9 / CASES as f64,
            CASES as f64 / best_between,
        );
    }
    Ok(())
}
