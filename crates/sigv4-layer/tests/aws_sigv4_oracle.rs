//! Our signer against aws-sigv4: for random requests, credentials, regions, times and every
//! combination of settings, [`sign_request`] must set exactly the headers (names, values, order
//! and sensitivity) that the old code path, `aws_sigv4::http_request::sign` behind the same
//! wrapper, set; and fail exactly when it failed, for the same reason.
//!
//! The old path is `tests/support/aws_oracle.rs`. The generated requests cover methods
//! (extension methods too), paths with `%3A`, `%2F`, other escapes, raw sub-delimiters, `.` and
//! `..` segments, empty segments (`//`) and encoded UTF-8; queries with repeated, empty,
//! `+`-encoded, malformed-escape and invalid-UTF-8 parameters; header sets with duplicates,
//! odd spaces and tabs, UTF-8 values, a `host` header or none, and every excluded or replaced
//! header; any body; valid and invalid regions; times from 1900 to 2100 with sub-seconds, half
//! of them on one day so that the shared key cache is hit;
//! session tokens (empty, spaced, absent); expired credentials; and a shared key cache or none.
//!
//! Cases aws-sigv4 itself rejects or cannot sign, and so not generated:
//! - a session token that is not a valid header value (a control character): aws-sigv4 fails
//!   with its own `SigningError`, ours with `SigningError::InvalidSignatureHeader` (a unit test
//!   in `src/error.rs` covers it);
//! - a time after year 9999: aws-sigv4 (the `time` crate) panics, ours fails with
//!   `SigningError::InvalidSigningTime`;
//! - non-UTF-8 header values: both fail before aws-sigv4 is called (`InvalidHeaderValue`), which
//!   the unit tests in `src/sign.rs` cover; generating them here would only test the wrapper.

#[path = "support/aws_oracle.rs"]
mod aws_oracle;

use std::sync::LazyLock;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_oracle::OracleError;
use http::{HeaderMap, HeaderValue, Request};
use proptest::prelude::*;
use sigv4_layer::{
    ContentSha256Header, SessionTokenMode, SigningError, SigningKeyCache, SigningParams,
    SigningSettings, UriPathNormalization, sign_request,
};

/// One cache for every case, small so that entries are replaced often.
static CACHE: LazyLock<SigningKeyCache> = LazyLock::new(|| SigningKeyCache::with_capacity(3));

fn pick<T: Clone + std::fmt::Debug + 'static>(items: &'static [T]) -> impl Strategy<Value = T> {
    proptest::sample::select(items)
}

fn method() -> impl Strategy<Value = String> {
    prop_oneof![
        pick(&["GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS"]).prop_map(String::from),
        "[A-Z]{1,8}",
    ]
}

/// Path segments as they may appear in a wire URI.
const SEGMENTS: &[&str] = &[
    "",
    ".",
    "..",
    "model",
    "converse",
    "anthropic.claude-3-haiku-20240307-v1%3A0",
    "arn%3Aaws%3Abedrock%3Aus-east-1%3A123%3Ainference-profile%2Fus.x",
    "%3A",
    "%2F",
    "%2f",
    "%20",
    "%25",
    "%2E",
    "%2E%2E",
    "%E3%83%86%E3%82%B9%E3%83%88",
    "a.b",
    "...",
    ".a",
    "a.",
    "-_.~",
    "A-Z",
    ":",
    "@",
    "!$&'()*+,;=",
    "x:y@z",
];

fn path() -> impl Strategy<Value = String> {
    prop::collection::vec(pick(SEGMENTS), 0..7).prop_map(|segments| {
        let mut path = String::from("/");
        path.push_str(&segments.join("/"));
        path
    })
}

/// Query names and values, wire-encoded or not.
const QUERY_ATOMS: &[&str] = &[
    "",
    "a",
    "B",
    "b",
    "x-id",
    "Param1",
    "%20",
    "+",
    "a+b",
    "%2B",
    "%3D",
    "%26",
    "%",
    "%zz",
    "%4",
    "%C3",
    "%E1%88%B4",
    "-_.~",
    "~a",
    ":",
    "/",
    "?",
    ",",
    "%7E",
    "AZ09",
];

fn query() -> impl Strategy<Value = Option<String>> {
    let pair = (
        pick(QUERY_ATOMS),
        pick(&["", "=", "==", "&"]),
        pick(QUERY_ATOMS),
    )
        .prop_map(|(name, eq, value)| format!("{name}{eq}{value}"));
    prop::option::of(prop::collection::vec(pair, 0..6).prop_map(|pairs| pairs.join("&")))
}

const HEADER_NAMES: &[&str] = &[
    "content-type",
    "accept",
    "x-amz-target",
    "X-Custom-Header",
    "zeta",
    "a",
    "host",
    "authorization",
    "user-agent",
    "x-amzn-trace-id",
    "transfer-encoding",
    "connection",
    "expect",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "upgrade",
    "x-amz-date",
    "x-amz-security-token",
    "x-amz-content-sha256",
    "x-amz-user-agent",
];

const HEADER_VALUES: &[&str] = &[
    "",
    " ",
    "application/json",
    "  a  b   c  ",
    "\tTabbed\t",
    "a \t b",
    "x,y",
    "h.example",
    " h.example:8443 ",
    "テスト",
    "value with  many    spaces",
    "UPPER lower",
];

fn headers() -> impl Strategy<Value = Vec<(&'static str, String)>> {
    let value = prop_oneof![
        3 => pick(HEADER_VALUES).prop_map(String::from),
        1 => "[ -~\t]{0,20}",
    ];
    prop::collection::vec((pick(HEADER_NAMES), value), 0..8)
}

fn authority() -> impl Strategy<Value = Option<&'static str>> {
    pick(&[
        Some("https://bedrock-runtime.us-east-1.amazonaws.com"),
        Some("https://example.amazonaws.com:443"),
        Some("https://example.com:8443"),
        Some("http://localhost:8000"),
        Some("http://127.0.0.1:80"),
        Some("http://[::1]:8080"),
        Some("https://user:pw@example.com:444"),
        // Origin form: signs only with a `host` header, fails with MissingHost otherwise.
        None,
    ])
}

fn region() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => pick(&["us-east-1", "eu-west-3", "ap-southeast-2", "us-gov-west-1"]).prop_map(String::from),
        2 => "[a-z0-9-]{1,16}",
        1 => pick(&["", "us-east-1/x", "eu west", "us_east_1"]).prop_map(String::from),
    ]
}

fn service() -> impl Strategy<Value = &'static str> {
    pick(&[
        "bedrock",
        "sts",
        "execute-api",
        "s3",
        "dynamodb",
        "my.svc_x",
    ])
}

fn time() -> impl Strategy<Value = SystemTime> {
    let at = |secs: i64, nanos: u32| {
        let whole = Duration::from_secs(secs.unsigned_abs());
        let at = if secs >= 0 {
            SystemTime::UNIX_EPOCH + whole
        } else {
            SystemTime::UNIX_EPOCH - whole
        };
        at + Duration::from_nanos(u64::from(nanos))
    };
    prop_oneof![
        // 1900-01-01 to 2100-01-01, with sub-seconds.
        (-2_208_988_800_i64..4_102_444_800, 0_u32..1_000_000_000)
            .prop_map(move |(secs, nanos)| at(secs, nanos)),
        // Within one day (2015-08-30 UTC), so the shared key cache gets hits, also for an access
        // key id it holds a key for with another secret.
        (1_440_892_800_i64..1_440_979_200, 0_u32..1_000_000_000)
            .prop_map(move |(secs, nanos)| at(secs, nanos)),
    ]
}

/// Credentials: a few known access key ids and secrets (so the cache sees the same id with
/// other secrets) or random ones, long secrets too.
fn credentials() -> impl Strategy<Value = (String, String, Option<String>, Option<i64>)> {
    let akid = prop_oneof![
        pick(&["AKIDEXAMPLE", "ASIAKNOWN"]).prop_map(String::from),
        "[A-Z0-9]{4,20}",
    ];
    let secret = prop_oneof![
        pick(&[
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "wrong-secret-for-a-known-access-key-id",
            "",
        ])
        .prop_map(String::from),
        "[A-Za-z0-9/+]{1,40}",
        "[A-Za-z0-9/+]{100,200}",
    ];
    let token = prop::option::of(prop_oneof![
        pick(&[
            "",
            "  spaced  token ",
            "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJH=="
        ])
        .prop_map(String::from),
        "[ -~]{1,64}",
    ]);
    // Expiry relative to the signing time, in seconds; mostly none.
    let expiry = prop_oneof![4 => Just(None), 1 => (-5_i64..5).prop_map(Some)];
    (akid, secret, token, expiry)
}

fn settings() -> impl Strategy<Value = SigningSettings> {
    (any::<bool>(), any::<bool>(), any::<bool>()).prop_map(|(sha, normalize, token)| {
        SigningSettings::default()
            .with_content_sha256_header(if sha {
                ContentSha256Header::Send
            } else {
                ContentSha256Header::Omit
            })
            .with_uri_path_normalization(if normalize {
                UriPathNormalization::Enabled
            } else {
                UriPathNormalization::Disabled
            })
            .with_session_token_mode(if token {
                SessionTokenMode::Include
            } else {
                SessionTokenMode::Exclude
            })
    })
}

#[derive(Debug)]
struct Case {
    request: Request<Vec<u8>>,
    credentials: Credentials,
    region: String,
    service: &'static str,
    time: SystemTime,
    settings: SigningSettings,
    cached: bool,
}

fn case() -> impl Strategy<Value = Case> {
    let request = (
        method(),
        authority(),
        path(),
        query(),
        headers(),
        prop::collection::vec(any::<u8>(), 0..300),
    )
        .prop_map(|(method, authority, path, query, headers, body)| {
            let mut uri = format!("{}{path}", authority.unwrap_or(""));
            if let Some(query) = query {
                uri.push('?');
                uri.push_str(&query);
            }
            let mut request = Request::builder()
                .method(method.as_str())
                .uri(&uri)
                .body(body)
                .unwrap_or_else(|e| panic!("{method} {uri}: {e}"));
            for (name, value) in headers {
                let value = HeaderValue::from_str(&value).expect("a valid header value");
                request.headers_mut().append(
                    http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                    value,
                );
            }
            request
        });
    (
        request,
        credentials(),
        region(),
        service(),
        time(),
        settings(),
        any::<bool>(),
    )
        .prop_map(
            |(request, (akid, secret, token, expiry), region, service, time, settings, cached)| {
                let expiry = expiry.map(|secs| {
                    if secs >= 0 {
                        time + Duration::from_secs(secs.unsigned_abs())
                    } else {
                        time - Duration::from_secs(secs.unsigned_abs())
                    }
                });
                Case {
                    request,
                    credentials: Credentials::new(akid, secret, token, expiry, "proptest"),
                    region,
                    service,
                    time,
                    settings,
                    cached,
                }
            },
        )
}

/// Every header in map order, with its sensitivity.
fn listing(headers: &HeaderMap) -> Vec<(String, Vec<u8>, bool)> {
    headers
        .iter()
        .map(|(n, v)| (n.to_string(), v.as_bytes().to_vec(), v.is_sensitive()))
        .collect()
}

fn same_kind(ours: &SigningError, oracle: OracleError) -> bool {
    matches!(
        (ours, oracle),
        (
            SigningError::ExpiredCredentials { .. },
            OracleError::ExpiredCredentials
        ) | (
            SigningError::InvalidRegion { .. },
            OracleError::InvalidRegion
        ) | (SigningError::MissingHost, OracleError::MissingHost)
            | (
                SigningError::InvalidHeaderValue { .. },
                OracleError::InvalidHeaderValue
            )
            | (
                SigningError::InvalidSignatureHeader { .. },
                OracleError::InvalidSignatureHeader
            )
    )
}

fn check(case: &Case) -> Result<(), TestCaseError> {
    let params = SigningParams::new(&case.credentials, &case.region, case.service, case.time)
        .with_settings(case.settings);
    let params = if case.cached {
        params.with_key_cache(&CACHE)
    } else {
        params
    };
    let mut ours_request = case.request.clone();
    let mut oracle_request = case.request.clone();
    let ours = sign_request(&mut ours_request, &params);
    let oracle = aws_oracle::sign_request(&mut oracle_request, &params);
    match (ours, oracle) {
        (Ok(()), Ok(())) => {
            prop_assert_eq!(
                listing(ours_request.headers()),
                listing(oracle_request.headers())
            );
        }
        (Err(ours), Err(oracle)) => {
            prop_assert!(
                same_kind(&ours, oracle),
                "ours: {ours:?}, aws-sigv4: {oracle:?}"
            );
            // On error the request is unchanged.
            prop_assert_eq!(
                listing(ours_request.headers()),
                listing(case.request.headers())
            );
        }
        (ours, oracle) => {
            prop_assert!(false, "ours: {ours:?}, aws-sigv4: {oracle:?}");
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 2_000,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn signs_like_aws_sigv4(case in case()) {
        check(&case)?;
    }
}

/// A few hand-picked requests, so the interesting shapes are checked on every run whatever the
/// random seed.
#[test]
fn hand_picked_cases_sign_like_aws_sigv4() {
    let time = SystemTime::UNIX_EPOCH + Duration::from_secs(1_440_938_160);
    let uris = [
        "https://bedrock-runtime.us-east-1.amazonaws.com/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse",
        "https://h.example/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123%3Ainference-profile%2Fus.x/converse-stream",
        "https://h.example/a/./b/../c//d/",
        "https://h.example/./..",
        "https://h.example/..",
        "https://h.example//",
        "https://h.example",
        "https://h.example/%E3%83%86/%2e%2E/x",
        "https://h.example/?b=2&a=1&a=&c&&d=%zz&e=+x+&f=%C3",
        "https://h.example/p?=&=x&%3D=%26",
    ];
    for uri in uris {
        for settings in [
            SigningSettings::default(),
            SigningSettings::default()
                .with_uri_path_normalization(UriPathNormalization::Disabled)
                .with_content_sha256_header(ContentSha256Header::Send)
                .with_session_token_mode(SessionTokenMode::Exclude),
        ] {
            for token in [None, Some("TOKEN  with  spaces ")] {
                let request = Request::post(uri)
                    .header("content-type", " application/json ")
                    .header("x-multi", "a")
                    .header("x-multi", "  b  c ")
                    .header("user-agent", "test")
                    .body(b"{\"k\":1}".to_vec())
                    .unwrap();
                for cached in [false, true] {
                    let case = Case {
                        request: request.clone(),
                        credentials: Credentials::new(
                            "AKIDEXAMPLE",
                            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                            token.map(str::to_owned),
                            None,
                            "t",
                        ),
                        region: "us-east-1".into(),
                        service: "bedrock",
                        time,
                        settings,
                        cached,
                    };
                    check(&case).unwrap_or_else(|e| panic!("{uri}: {e}"));
                }
            }
        }
    }
}
