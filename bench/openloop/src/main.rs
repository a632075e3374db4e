//! `minime-openloop BASE_URL RATE SECONDS`: GET a random seeded user's random task (see
//! bench/seed.sql) at a fixed rate. Each latency counts from the moment the request was due, not
//! from when it was sent, so a server that falls behind cannot hide its queue (no coordinated
//! omission).

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use rand::Rng;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, base, rate, seconds] = args.as_slice() else {
        eprintln!("usage: minime-openloop BASE_URL RATE SECONDS");
        std::process::exit(2);
    };
    let rate: f64 = rate.parse().expect("RATE: requests per second");
    let seconds: f64 = seconds.parse().expect("SECONDS");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()
        .expect("client");
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let errors = Arc::new(Mutex::new(0u64));
    let total = (rate * seconds) as u64;
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(total as usize);
    for i in 0..total {
        let due = start + Duration::from_secs_f64(i as f64 / rate);
        tokio::time::sleep_until(due.into()).await;
        let (n, k) = {
            let mut rng = rand::thread_rng();
            (rng.gen_range(1..=1000u64), rng.gen_range(1..=100u64))
        };
        let url = format!(
            "{base}/v1/tasks/00000000-0000-7000-8000-{:012}",
            n * 1000 + k
        );
        let (client, latencies, errors) = (client.clone(), latencies.clone(), errors.clone());
        tasks.push(tokio::spawn(async move {
            let ok = client
                .get(url)
                .bearer_auth(format!("mm_pat_bench_{n}"))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            latencies.lock().unwrap().push(due.elapsed());
            if !ok {
                *errors.lock().unwrap() += 1;
            }
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let mut l = latencies.lock().unwrap().clone();
    l.sort();
    let at = |q: f64| l[((l.len() as f64 * q) as usize).min(l.len() - 1)].as_secs_f64() * 1000.0;
    println!(
        "{:.0} {:.2}ms {:.2}ms {:.2}ms {}",
        l.len() as f64 / elapsed,
        at(0.50),
        at(0.99),
        at(0.999),
        errors.lock().unwrap()
    );
}
