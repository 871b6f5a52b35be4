//! The browser console's files (`console/dist`, built by `console/build.sh`), embedded in the
//! binary at compile time: `GET /` is `index.html`, any other path the file of that path, else
//! 404. A file is gzipped once, the first time a client that accepts gzip asks for it.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use http::header::{
    ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, VARY,
};
use http::{HeaderValue, Method, Response, StatusCode};
use include_dir::{Dir, include_dir};
use tonic::body::Body;

static DIST: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/console/dist");

/// Below this a file is sent as it is: gzip would save a packet at most.
const GZIP_FROM_BYTES: usize = 1024;

/// The embedded files by their path (`/index.html`, `/assets/app.js`).
#[derive(Clone, Default)]
pub struct Console {
    files: Arc<HashMap<String, Asset>>,
}

struct Asset {
    bytes: &'static [u8],
    content_type: &'static str,
    /// Names that change with their content (`app-3f9a1c.js`) are cached for a year.
    immutable: bool,
    gzipped: OnceLock<Option<Bytes>>,
}

impl Console {
    /// Every file of `console/dist`.
    pub fn embedded() -> Self {
        let mut files = HashMap::new();
        let mut pending = vec![&DIST];
        while let Some(dir) = pending.pop() {
            for file in dir.files() {
                let path = file.path().to_string_lossy().replace('\\', "/");
                files.insert(
                    format!("/{path}"),
                    Asset {
                        bytes: file.contents(),
                        content_type: content_type(&path),
                        immutable: is_fingerprinted(&path),
                        gzipped: OnceLock::new(),
                    },
                );
            }
            pending.extend(dir.dirs());
        }
        Self {
            files: Arc::new(files),
        }
    }

    /// The answer to a GET or HEAD of `path`.
    pub fn answer(&self, method: &Method, path: &str, headers: &http::HeaderMap) -> Response<Body> {
        let path = if path == "/" { "/index.html" } else { path };
        let Some(asset) = self.files.get(path) else {
            return not_found();
        };
        let gzip = accepts_gzip(headers).then(|| asset.gzipped()).flatten();
        let (bytes, encoding) = match gzip {
            Some(bytes) => (bytes, Some("gzip")),
            None => (Bytes::from_static(asset.bytes), None),
        };
        let mut response = Response::new(Body::empty());
        let out = response.headers_mut();
        out.insert(CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
        out.insert(CONTENT_LENGTH, HeaderValue::from(bytes.len()));
        out.insert(
            CACHE_CONTROL,
            HeaderValue::from_static(if asset.immutable {
                "public, max-age=31536000, immutable"
            } else {
                // index.html and unversioned names: asked again each time (cheap: embedded).
                "no-cache"
            }),
        );
        if asset.bytes.len() >= GZIP_FROM_BYTES {
            out.insert(VARY, HeaderValue::from_static("accept-encoding"));
        }
        if let Some(encoding) = encoding {
            out.insert(CONTENT_ENCODING, HeaderValue::from_static(encoding));
        }
        if method != Method::HEAD {
            *response.body_mut() = Body::new(http_body_util::Full::new(bytes));
        }
        response
    }
}

impl Asset {
    fn gzipped(&self) -> Option<Bytes> {
        self.gzipped
            .get_or_init(|| {
                if self.bytes.len() < GZIP_FROM_BYTES || !compressible(self.content_type) {
                    return None;
                }
                let mut encoder =
                    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
                encoder.write_all(self.bytes).ok()?;
                let gzipped = encoder.finish().ok()?;
                (gzipped.len() < self.bytes.len()).then(|| Bytes::from(gzipped))
            })
            .clone()
    }
}

fn not_found() -> Response<Body> {
    let mut response = Response::new(Body::new(http_body_util::Full::new(Bytes::from_static(
        b"not found\n",
    ))));
    *response.status_mut() = StatusCode::NOT_FOUND;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

fn accepts_gzip(headers: &http::HeaderMap) -> bool {
    headers
        .get_all(ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or("").trim();
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .is_some_and(|q| q.trim().parse::<f32>().is_ok_and(|q| q == 0.0))
            });
            name.eq_ignore_ascii_case("gzip") && !refused
        })
}

fn content_type(path: &str) -> &'static str {
    let extension = path.rsplit_once('.').map_or("", |(_, e)| e);
    match extension.to_ascii_lowercase().as_str() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "ico" => "image/x-icon",
        "webp" => "image/webp",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "txt" => "text/plain; charset=utf-8",
        "wasm" => "application/wasm",
        _ => "application/octet-stream",
    }
}

fn compressible(content_type: &str) -> bool {
    content_type.starts_with("text/")
        || content_type.starts_with("application/json")
        || content_type == "image/svg+xml"
}

/// A name with a content hash in it (`app-3f9a1c2b.js`, `index.3F9A1C2B.css`): a hex or
/// base32-ish run of at least 8 characters after a `-` or `.` before the extension.
fn is_fingerprinted(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    let Some((stem, _)) = name.rsplit_once('.') else {
        return false;
    };
    stem.rsplit(['-', '.'])
        .next()
        .filter(|hash| hash.len() != stem.len())
        .is_some_and(|hash| hash.len() >= 8 && hash.bytes().all(|b| b.is_ascii_alphanumeric()))
        && name != "index.html"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_hashed_names_are_told_from_plain_ones() {
        assert!(is_fingerprinted("assets/app-3f9a1c2b.js"));
        assert!(is_fingerprinted("index-BX2KQ7ZD.css"));
        assert!(!is_fingerprinted("index.html"));
        assert!(!is_fingerprinted("app.js"));
        assert!(!is_fingerprinted("favicon.ico"));
        assert!(!is_fingerprinted("app-v1.js"));
    }

    #[test]
    fn gzip_is_used_only_when_accepted() {
        let mut headers = http::HeaderMap::new();
        assert!(!accepts_gzip(&headers));
        headers.insert(ACCEPT_ENCODING, HeaderValue::from_static("br, gzip;q=0.8"));
        assert!(accepts_gzip(&headers));
        headers.insert(ACCEPT_ENCODING, HeaderValue::from_static("gzip;q=0, br"));
        assert!(!accepts_gzip(&headers));
    }

    #[test]
    fn the_index_page_is_embedded() {
        let console = Console::embedded();
        let answer = console.answer(&Method::GET, "/", &http::HeaderMap::new());
        assert_eq!(answer.status(), StatusCode::OK);
        assert_eq!(
            answer.headers()[CONTENT_TYPE],
            HeaderValue::from_static("text/html; charset=utf-8")
        );
        let missing = console.answer(&Method::GET, "/nothing.js", &http::HeaderMap::new());
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    }
}
