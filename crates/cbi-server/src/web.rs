//! The web chat page: one HTML page, its script and style, and Chart.js, all embedded in the
//! binary so the page works with no network (no CDN). The page talks to the `/v1` API like any
//! other client; it holds no secrets and needs no token to load (its API calls do).

use axum::extract::Path;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The page, its script and style, and the vendored charting library
/// (Chart.js 4.6.2 from npm, `dist/chart.umd.min.js`, MIT; see `assets/vendor`).
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/app.js"),
    ),
    (
        "app.css",
        "text/css; charset=utf-8",
        include_bytes!("../assets/app.css"),
    ),
    (
        "chart.umd.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/vendor/chart.umd.min.js"),
    ),
];

const INDEX_HTML: &str = include_str!("../assets/index.html");

/// Only the page's own scripts, styles and API; no inline script, no framing.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";

fn security_headers() -> [(HeaderName, HeaderValue); 4] {
    [
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
    ]
}

pub(crate) async fn page() -> Response {
    (
        security_headers(),
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        INDEX_HTML,
    )
        .into_response()
}

pub(crate) async fn asset(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|(n, _, _)| *n == name) {
        Some((_, content_type, body)) => (
            security_headers(),
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=3600"),
                ),
            ],
            *body,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such asset").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_loads_only_embedded_assets() {
        for src in [
            "/assets/app.css",
            "/assets/app.js",
            "/assets/chart.umd.min.js",
        ] {
            assert!(INDEX_HTML.contains(src), "{src} is not loaded by the page");
            let name = src.trim_start_matches("/assets/");
            assert!(
                ASSETS.iter().any(|(n, _, _)| *n == name),
                "{name} is not embedded"
            );
        }
        // Nothing is fetched from elsewhere.
        assert!(!INDEX_HTML.contains("http://") && !INDEX_HTML.contains("https://"));
        // No inline script: the policy would block it.
        assert!(!INDEX_HTML.contains("<script>"));
    }

    #[test]
    fn the_script_puts_server_text_on_the_page_as_text_only() {
        let js = std::str::from_utf8(ASSETS[0].2).unwrap();
        for markup in [
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
            "eval(",
        ] {
            assert!(!js.contains(markup), "app.js uses {markup}");
        }
    }
}
