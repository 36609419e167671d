use super::*;
use crate::targets::test_support::*;
use crate::targets::*;
use std::time::{Duration, Instant};

// ---- http delivery ----------------------------------------------------------------

#[test]
fn http_2xx_is_delivered_once_with_the_exact_json() {
    let server = Server::script(&[204]);
    let mut target = http_target("audit", &server.url("/session_end"), 2000, 2);
    if let TargetKind::Http { headers, .. } = &mut target.kind {
        headers.push(Header::new("Authorization", "AUDIT_TOKEN", SECRET));
    }
    let p = payload();
    let out = deliver(&target, &p, &http_client());
    assert!(out.ok, "{out:?}");
    assert_eq!(out.attempts, 1);
    assert_eq!(out.detail, "HTTP 204 after 1 attempt");

    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/session_end");
    assert_eq!(r.body, serde_json::to_vec(&p).unwrap());
    // Key order as built (serde_json preserve_order).
    assert!(String::from_utf8_lossy(&r.body).starts_with(r#"{"event":{"sessionId":"#));
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("authorization"), Some(SECRET));
    assert_eq!(
        r.header("user-agent"),
        Some(concat!("sessionctl/", env!("CARGO_PKG_VERSION")))
    );
}

#[test]
fn http_500_then_200_is_delivered_after_two_attempts() {
    let server = Server::script(&[500, 200]);
    let target = http_target("a", &server.url("/h"), 2000, 2);
    let out = deliver(&target, &payload(), &http_client());
    assert!(out.ok, "{out:?}");
    assert_eq!(out.attempts, 2);
    assert_eq!(out.detail, "HTTP 200 after 2 attempts");
    assert_eq!(server.requests().len(), 2);
    assert!(out.elapsed_ms >= 200, "no backoff: {out:?}");
}

#[test]
fn http_429_and_503_are_retried_until_retries_run_out() {
    let server = Server::script(&[429, 503, 500]);
    let target = http_target("a", &server.url("/h"), 2000, 2);
    let out = deliver(&target, &payload(), &http_client());
    assert!(!out.ok);
    assert_eq!(out.attempts, 3);
    assert_eq!(out.detail, "HTTP 500 after 3 attempts");
    assert_eq!(server.requests().len(), 3);
    // 200 ms + 400 ms of backoff.
    assert!(out.elapsed_ms >= 600, "{out:?}");
}

#[test]
fn http_4xx_is_final() {
    let server = Server::script(&[400, 200]);
    let target = http_target("a", &server.url("/h"), 2000, 5);
    let out = deliver(&target, &payload(), &http_client());
    assert!(!out.ok);
    assert_eq!(out.attempts, 1);
    assert_eq!(out.detail, "HTTP 400 after 1 attempt");
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn http_redirects_are_not_followed() {
    let server = Server::script(&[307, 200]);
    let target = http_target("a", &server.url("/h"), 2000, 2);
    let out = deliver(&target, &payload(), &http_client());
    assert!(!out.ok);
    assert_eq!(
        out.detail,
        "HTTP 307 (redirects are not followed) after 1 attempt"
    );
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn http_connection_refused_is_retried() {
    let (_socket, port) = refused_port();
    let url = format!("http://127.0.0.1:{port}/h");
    let target = http_target("a", &url, 1000, 2);
    let out = deliver(&target, &payload(), &http_client());
    assert!(!out.ok);
    assert_eq!(out.attempts, 3);
    assert_eq!(out.detail, "connection refused after 3 attempts");
    assert!(out.elapsed_ms >= 600, "{out:?}");
    assert!(!out.detail.contains("127.0.0.1"), "the url leaked: {out:?}");
}

#[test]
fn http_hanging_server_times_out() {
    let server = Server::start(|_, _| hang());
    let target = http_target("a", &server.url("/h"), 300, 0);
    let t0 = Instant::now();
    let out = deliver(&target, &payload(), &http_client());
    let took = t0.elapsed();
    assert!(!out.ok);
    assert_eq!(out.attempts, 1);
    assert_eq!(out.detail, "timed out after 300ms (1 attempt)");
    assert!(took >= Duration::from_millis(300), "{took:?}");
    assert!(took < Duration::from_millis(1500), "{took:?}");
}

#[test]
fn http_timeouts_are_retried_with_backoff_capped_by_the_timeout() {
    let server = Server::start(|n, _| if n == 0 { hang() } else { status(201) });
    let target = http_target("a", &server.url("/h"), 150, 1);
    let out = deliver(&target, &payload(), &http_client());
    assert!(out.ok, "{out:?}");
    assert_eq!(out.detail, "HTTP 201 after 2 attempts");
    // 150 ms timeout, then a backoff of min(200 ms, timeout) = 150 ms.
    assert!(out.elapsed_ms >= 300, "{out:?}");
    assert_eq!(
        backoff(1, Duration::from_secs(5)),
        Duration::from_millis(200)
    );
    assert_eq!(
        backoff(2, Duration::from_secs(5)),
        Duration::from_millis(400)
    );
    assert_eq!(
        backoff(4, Duration::from_secs(5)),
        Duration::from_millis(1600)
    );
    assert_eq!(backoff(5, Duration::from_secs(5)), Duration::from_secs(2));
    assert_eq!(backoff(60, Duration::from_secs(5)), Duration::from_secs(2));
    assert_eq!(
        backoff(3, Duration::from_millis(300)),
        Duration::from_millis(300)
    );
}

#[test]
fn http_other_failures_are_described_without_the_url() {
    let server = Server::start(|n, _| match n {
        0 => Reply {
            close: true,
            ..status(0)
        },
        _ => status(200),
    });
    let target = http_target("a", &server.url("/h"), 2000, 0);
    let out = deliver(&target, &payload(), &http_client());
    assert!(!out.ok);
    assert!(out.detail.ends_with(" after 1 attempt"), "{out:?}");
    assert!(!out.detail.contains("127.0.0.1"), "{out:?}");
    // Retried like any other transport failure: the next request gets a 200.
    let target = http_target("a", &server.url("/h"), 2000, 1);
    let out = deliver(&target, &payload(), &http_client());
    assert_eq!(out.detail, "HTTP 200 after 1 attempt");
    let again = Server::start(|n, _| Reply {
        close: n == 0,
        ..status(200)
    });
    let target = http_target("a", &again.url("/h"), 2000, 1);
    let out = deliver(&target, &payload(), &http_client());
    assert_eq!(out.detail, "HTTP 200 after 2 attempts");

    let target = http_target("a", "http://hooks.sessionctl.invalid/end", 2000, 0);
    let out = deliver(&target, &payload(), &build_client(&no_env));
    assert!(!out.ok);
    assert!(out.detail.starts_with("cannot connect: "), "{out:?}");
    assert!(!out.detail.contains("sessionctl.invalid/end"), "{out:?}");
}

#[test]
fn http_secret_never_reaches_the_detail() {
    // The server echoes every request header into its error body, and its status line
    // reason, body and all are ignored by deliver.
    let server = Server::start(|n, req| {
        let echoed: String = req
            .headers
            .iter()
            .map(|(k, v)| format!("{k}: {v}\n"))
            .collect();
        Reply {
            body: echoed,
            ..status(if n == 0 { 500 } else { 401 })
        }
    });
    let getenv = env(&[("AUDIT_TOKEN", SECRET)]);
    let text = format!(
        "[[targets]]\nname = \"audit\"\ntype = \"http\"\nurl = \"{}\"\ntimeout = \"2s\"\n\
         [targets.headers]\nAuthorization = \"AUDIT_TOKEN\"\n",
        server.url("/h")
    );
    let (_dir, path) = write_config(&text);
    let cfg = load(&path, true, &getenv).unwrap();
    let out = deliver(&cfg.targets[0], &payload(), &http_client());
    assert!(!out.ok);
    assert_eq!(out.detail, "HTTP 401 after 2 attempts");
    let reqs = server.requests();
    assert_eq!(reqs[0].header("authorization"), Some(SECRET));
    let all = format!("{out:?} {} {:?}", cfg.targets[0], cfg.targets[0]);
    assert!(!all.contains("s3cr3t"), "{all}");

    // And if some error message ever quoted the value, it is blanked out.
    let cleaned = clean_detail(&format!("oops: {SECRET}\nmore"), &cfg.targets[0]);
    assert_eq!(cleaned, "oops: <redacted> more");
}

#[test]
fn http_proxies_from_the_environment_skip_loopback() {
    let proxy = Server::script(&[200]);
    let direct = Server::script(&[204]);
    let proxy_url = format!("http://{}", proxy.addr);
    let client = build_client(&env(&[("HTTP_PROXY", &proxy_url)]));

    // Loopback goes direct.
    let out = deliver(
        &http_target("a", &direct.url("/d"), 2000, 0),
        &payload(),
        &client,
    );
    assert_eq!(out.detail, "HTTP 204 after 1 attempt");
    assert_eq!(direct.requests().len(), 1);
    assert!(proxy.requests().is_empty());

    // Anything else goes through the proxy, as reqwest would do by default.
    let far = http_target("b", "http://hooks.sessionctl.invalid/end", 2000, 0);
    let out = deliver(&far, &payload(), &client);
    assert_eq!(out.detail, "HTTP 200 after 1 attempt");
    let reqs = proxy.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].path, "http://hooks.sessionctl.invalid/end");

    // NO_PROXY is honoured too.
    let client = build_client(&env(&[
        ("HTTP_PROXY", &proxy_url),
        ("NO_PROXY", "sessionctl.invalid"),
    ]));
    let out = deliver(&far, &payload(), &client);
    assert!(!out.ok);
    assert_eq!(proxy.requests().len(), 1);
}
