//! HTTP delivery: a POST of the payload, retried with backoff while the target is down.

use std::io;
use std::thread;
use std::time::Duration;

use reqwest::blocking::Client;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE};

use super::{attempts_word, format_duration, io_message, Header, Tried};

/// The HTTP client for deliveries. reqwest's defaults, except: the user agent is
/// `sessionctl/<version>`, redirects are not followed (a POST must not turn into a GET
/// elsewhere), and proxies from `HTTP_PROXY`/`HTTPS_PROXY`/`ALL_PROXY` (minus `NO_PROXY`)
/// never apply to loopback targets.
pub fn http_client() -> Client {
    build_client(&|k| std::env::var(k).ok())
}

fn build_client(getenv: &dyn Fn(&str) -> Option<String>) -> Client {
    let mut builder = Client::builder()
        .user_agent(concat!("sessionctl/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy();
    for p in env_proxies(getenv) {
        builder = builder.proxy(p);
    }
    builder
        .build()
        .expect("the HTTP client (rustls) could not be initialised")
}

/// The proxies reqwest would take from the environment, each exempting loopback.
fn env_proxies(getenv: &dyn Fn(&str) -> Option<String>) -> Vec<reqwest::Proxy> {
    let first = |names: [&str; 2]| names.iter().find_map(|n| getenv(n));
    let mut no_proxy = first(["NO_PROXY", "no_proxy"]).unwrap_or_default();
    no_proxy.push_str(",localhost,127.0.0.0/8,::1");
    type MakeProxy = fn(&str) -> reqwest::Result<reqwest::Proxy>;
    let candidates: [(MakeProxy, [&str; 2]); 3] = [
        (|u| reqwest::Proxy::http(u), ["HTTP_PROXY", "http_proxy"]),
        (|u| reqwest::Proxy::https(u), ["HTTPS_PROXY", "https_proxy"]),
        (|u| reqwest::Proxy::all(u), ["ALL_PROXY", "all_proxy"]),
    ];
    candidates
        .into_iter()
        .filter_map(|(make, names)| {
            let url = first(names).filter(|u| !u.trim().is_empty())?;
            let proxy = make(url.trim()).ok()?;
            Some(proxy.no_proxy(reqwest::NoProxy::from_string(&no_proxy)))
        })
        .collect()
}

/// Why an attempt failed, and whether another one may help.
struct Failure {
    what: String,
    retry: bool,
    timed_out: bool,
}

pub(super) fn deliver_http(
    url: &str,
    headers: &[Header],
    retries: u32,
    timeout: Duration,
    payload: &serde_json::Value,
    key: Option<&str>,
    client: &Client,
) -> Tried {
    let body = match serde_json::to_vec(payload) {
        Ok(b) => b,
        Err(e) => return Tried::refused(0, format!("cannot encode the payload: {e}")),
    };
    let mut map = HeaderMap::new();
    map.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Some(v) = key.and_then(|k| HeaderValue::from_str(k).ok()) {
        map.insert(HeaderName::from_static("idempotency-key"), v);
    }
    for h in headers {
        let Ok(name) = HeaderName::from_bytes(h.name.as_bytes()) else {
            return Tried::refused(0, format!("header {} is not a valid name", h.name));
        };
        let Ok(mut value) = HeaderValue::from_str(&h.value) else {
            return Tried::refused(
                0,
                format!("header {}: ${} is not a valid header value", h.name, h.env),
            );
        };
        value.set_sensitive(true);
        map.append(name, value);
    }

    let mut attempt = 0u32;
    loop {
        attempt += 1;
        let sent = client
            .post(url)
            .timeout(timeout)
            .headers(map.clone())
            .body(body.clone())
            .send();
        let failure = match sent {
            Ok(resp) => {
                // The body is not read: it is not needed, and it may echo our headers.
                let status = resp.status();
                drop(resp);
                if status.is_success() {
                    let detail =
                        format!("HTTP {} after {}", status.as_u16(), attempts_word(attempt));
                    return Tried::delivered(attempt, detail);
                }
                Failure {
                    what: match status.is_redirection() {
                        true => format!("HTTP {} (redirects are not followed)", status.as_u16()),
                        false => format!("HTTP {}", status.as_u16()),
                    },
                    retry: status.is_server_error() || status.as_u16() == 429,
                    timed_out: false,
                }
            }
            Err(e) => http_failure(&e),
        };
        if !failure.retry || attempt > retries {
            let detail = match failure.timed_out {
                true => format!(
                    "timed out after {} ({})",
                    format_duration(timeout),
                    attempts_word(attempt)
                ),
                false => format!("{} after {}", failure.what, attempts_word(attempt)),
            };
            // Retryable failures (no answer, 5xx, 429) say the target is down; others are
            // its answer to this payload.
            return match failure.retry {
                true => Tried::down(attempt, detail),
                false => Tried::refused(attempt, detail),
            };
        }
        thread::sleep(backoff(attempt, timeout));
    }
}

/// Before attempt n+1: 200 ms × 2^(n-1), at most 2 s and at most the timeout, so that a
/// retry costs no more than twice the timeout.
fn backoff(failed_attempt: u32, timeout: Duration) -> Duration {
    let exp = failed_attempt.saturating_sub(1).min(16);
    Duration::from_millis(200u64 << exp)
        .min(Duration::from_secs(2))
        .min(timeout)
}

/// Describe a reqwest error without its Display, which names the url.
fn http_failure(e: &reqwest::Error) -> Failure {
    let timed_out = Failure {
        what: "timed out".into(),
        retry: true,
        timed_out: true,
    };
    if e.is_timeout() {
        return timed_out;
    }
    let mut io_error: Option<&io::Error> = None;
    let mut innermost: Option<&dyn std::error::Error> = None;
    let mut cur = std::error::Error::source(e);
    while let Some(err) = cur {
        if io_error.is_none() {
            io_error = err.downcast_ref::<io::Error>();
        }
        innermost = Some(err);
        cur = err.source();
    }
    let what = match io_error.map(|io| (io.kind(), io)) {
        Some((io::ErrorKind::TimedOut, _)) => return timed_out,
        Some((io::ErrorKind::ConnectionRefused, _)) => "connection refused".to_string(),
        Some((io::ErrorKind::ConnectionReset, _)) => "connection reset".to_string(),
        Some((_, io)) => io_message(io),
        None => innermost.map_or_else(|| "request failed".to_string(), |e| e.to_string()),
    };
    let what = match e.is_connect() && what != "connection refused" {
        true => format!("cannot connect: {what}"),
        false => what,
    };
    Failure {
        what,
        // A builder error (a bad url) will not get better.
        retry: !e.is_builder(),
        timed_out: false,
    }
}

#[cfg(test)]
#[path = "http_tests.rs"]
mod tests;
