//! The web chat page in a real browser: headless Chromium driven over WebDriver
//! (chromedriver), against a server on 127.0.0.1:0 over the demo database. The browser loads
//! the page and its embedded assets, clicks nothing it could not see, types questions, waits
//! for the charts and checks that the rows shown are the API's rows.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them); `CBI_CHROMIUM`
//! and `CBI_CHROMEDRIVER` name other binaries.

use std::collections::BTreeSet;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cbi_server::ServerOptions;
use cbi_session::MemoryStore;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use super::{Running, demo, engine_over, get, post};

/// chromedriver on a free loopback port; killed when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    fn start() -> Driver {
        let binary = std::env::var("CBI_CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        // Its own process group, so the browsers it starts go with it (see `Drop`).
        let child = Command::new(&binary)
            .process_group(0)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "could not start `{binary}` ({e}): the browser test needs Debian's chromium \
                     and chromium-driver (apt-get install chromium chromium-driver; .ci/run \
                     installs them)"
                )
            });
        Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }

    async fn ready(&self) {
        let c = reqwest::Client::new();
        let t0 = Instant::now();
        loop {
            if let Ok(r) = c.get(format!("{}/status", self.url)).send().await {
                if r.status().is_success() {
                    return;
                }
            }
            assert!(
                t0.elapsed() < Duration::from_secs(30),
                "chromedriver did not answer within 30 s"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Driver {
    /// Ends chromedriver and every browser it started, even when the test failed before it
    /// could close its session.
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn browser(driver: &Driver) -> Client {
    let chromium = std::env::var("CBI_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let caps = json!({
        "goog:chromeOptions": {
            "binary": chromium,
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--window-size=1200,1000",
            ],
        }
    });
    let Value::Object(caps) = caps else {
        unreachable!()
    };
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a headless Chromium session")
}

const WAIT: Duration = Duration::from_secs(15);

/// The `n`th answer card (1-based), once it is on the page.
async fn answer(c: &Client, n: usize) -> fantoccini::elements::Element {
    let css = format!("#log article.answer:nth-of-type({n})");
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Css(&css))
        .await
        .unwrap_or_else(|e| panic!("answer {n} did not appear: {e}"))
}

async fn ask(c: &Client, question: &str) {
    let input = c.find(Locator::Css("#question")).await.unwrap();
    input.send_keys(question).await.unwrap();
    c.find(Locator::Css("#ask-button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// The texts of one column of an answer's table.
async fn column(card: &fantoccini::elements::Element, index: usize) -> Vec<String> {
    let mut out = Vec::new();
    for row in card.find_all(Locator::Css("table tbody tr")).await.unwrap() {
        let cells = row.find_all(Locator::Css("td")).await.unwrap();
        out.push(cells[index].text().await.unwrap());
    }
    out
}

async fn chart_kind(c: &Client, n: usize) -> String {
    let css = format!("#log article.answer:nth-of-type({n}) .chart[data-chart]");
    let chart = c
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css(&css))
        .await
        .unwrap_or_else(|e| panic!("answer {n} drew no chart: {e}"));
    chart.attr("data-chart").await.unwrap().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_web_page_answers_with_charts_in_a_real_browser() {
    let d = demo();
    let (engine, key) = engine_over(&d, std::sync::Arc::new(MemoryStore::new())).await;
    let server = Running::start(engine, ServerOptions::open(key)).await;
    let http = reqwest::Client::new();
    // What the page should show, from the API of another server over the same data (so the
    // page's first answer is worked out, not taken from this server's cache).
    let (other, key) = engine_over(&d, std::sync::Arc::new(MemoryStore::new())).await;
    let reference = Running::start(other, ServerOptions::open(key)).await;
    let (status, expected) = post(
        &http,
        &reference.url("/v1/ask"),
        None,
        json!({"question": "revenue by region"}),
    )
    .await;
    assert_eq!(status, 200, "{expected}");
    let regions: BTreeSet<String> = expected["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r[0].as_str().unwrap().to_string())
        .collect();
    assert!(regions.len() >= 2, "{expected}");
    let top = expected["rows"]
        .as_array()
        .unwrap()
        .iter()
        .max_by(|a, b| a[1].as_f64().unwrap().total_cmp(&b[1].as_f64().unwrap()))
        .unwrap()[0]
        .as_str()
        .unwrap()
        .to_string();
    // Every suggested first question is answered with rows, confidently.
    let (_, suggested) = get(&http, &reference.url("/v1/suggestions"), None).await;
    let questions = suggested["questions"].as_array().unwrap();
    assert!(questions.len() >= 3, "{suggested}");
    for q in questions {
        let (s, a) = post(
            &http,
            &reference.url("/v1/ask"),
            None,
            json!({"question": q}),
        )
        .await;
        assert_eq!(s, 200, "{q}: {a}");
        assert!(a["row_count"].as_u64().unwrap() > 0, "{q}: {a}");
        assert_ne!(a["confidence_band"], "low", "{q}: {a}");
    }

    let driver = Driver::start();
    driver.ready().await;
    let c = browser(&driver).await;
    c.goto(&server.url("/")).await.unwrap();
    assert_eq!(c.title().await.unwrap(), "cbi — ask your data");

    // Suggested first questions, drawn from the schema, as buttons.
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Css("#suggestions button.suggestion"))
        .await
        .expect("suggested questions");
    let mut shown = Vec::new();
    for b in c
        .find_all(Locator::Css("#suggestions button.suggestion"))
        .await
        .unwrap()
    {
        shown.push(b.text().await.unwrap());
    }
    let api: Vec<String> = suggested["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q.as_str().unwrap().to_string())
        .collect();
    assert_eq!(shown, api);

    // A question: a bar chart, the API's rows, visible in under a second.
    ask(&c, "revenue by region").await;
    let first = answer(&c, 1).await;
    assert_eq!(chart_kind(&c, 1).await, "bar");
    let ms: u64 = first
        .attr("data-ms")
        .await
        .unwrap()
        .expect("the page records how long the answer took")
        .parse()
        .unwrap();
    eprintln!("the first answer was visible {ms} ms after the question was sent");
    assert!(ms < 1000, "the first answer took {ms} ms to appear");
    assert!(!first.text().await.unwrap().contains("from cache"));
    let labels: BTreeSet<String> = column(&first, 0).await.into_iter().collect();
    assert_eq!(labels, regions);
    // Amounts are shown as people read them: grouped, two decimals.
    let amounts = column(&first, 1).await;
    assert!(
        amounts
            .iter()
            .all(|a| a.contains(',') && a.split('.').nth(1).is_some_and(|d| d.len() == 2)),
        "{amounts:?}"
    );
    let sql = first
        .find(Locator::Css("details.sql code"))
        .await
        .unwrap()
        .prop("textContent")
        .await
        .unwrap()
        .unwrap_or_default();
    assert!(sql.to_uppercase().contains("GROUP BY"), "{sql}");
    assert!(!sql.contains("10001"), "the row-cap probe is shown: {sql}");
    let badge = first.find(Locator::Css(".badge")).await.unwrap();
    let badge = badge.text().await.unwrap().to_lowercase();
    assert!(badge.ends_with("confidence"), "{badge}");

    // A follow-up is read against the answer before it.
    ask(&c, "which had the highest?").await;
    let second = answer(&c, 2).await;
    let text = second.text().await.unwrap();
    assert!(
        text.contains(&top),
        "the follow-up shows {text:?}, not {top}"
    );

    // A time series is drawn as a line.
    ask(&c, "revenue by month").await;
    answer(&c, 3).await;
    assert_eq!(chart_kind(&c, 3).await, "line");

    // Asked again, the rows come from the cache and say so; "Run again" reads the database.
    ask(&c, "revenue by region").await;
    let again = answer(&c, 4).await;
    assert!(again.text().await.unwrap().contains("from cache"));
    again
        .find(Locator::Css("button.fresh"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let fresh = answer(&c, 5).await;
    assert_eq!(chart_kind(&c, 5).await, "bar");
    assert!(!fresh.text().await.unwrap().contains("from cache"));
    assert_eq!(
        column(&fresh, 0).await.into_iter().collect::<BTreeSet<_>>(),
        regions
    );

    // "This is right" makes the first answer a verified example.
    first
        .find(Locator::Css("button.feedback"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let t0 = Instant::now();
    while !first.text().await.unwrap().contains("verified answer") {
        assert!(t0.elapsed() < WAIT, "no thanks for the feedback");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // The page as it looks, for people to see (and CI to keep).
    let png = c.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000);
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("web-chat.png");
    std::fs::write(&path, &png).unwrap();
    eprintln!("screenshot: {}", path.display());

    c.close().await.unwrap();
    server.shutdown().await;
    reference.shutdown().await;
}
