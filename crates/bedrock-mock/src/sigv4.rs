//! An independent SigV4 verifier (sha2 + hmac, not aws-sigv4), so that the mock does not share
//! the gateway's signer's bugs. Failures are Bedrock's real 403 answers.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use http::HeaderMap;
use sha2::{Digest, Sha256};

/// The AWS documentation's example key pair.
pub const EXAMPLE_ACCESS_KEY: &str = "AKIAIOSFODNN7EXAMPLE";
/// Its secret.
pub const EXAMPLE_SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
/// A temporary key pair, with [`SESSION_TOKEN`].
pub const SESSION_ACCESS_KEY: &str = "ASIAMOCKSESSIONEXAMPLE";
/// Its secret.
pub const SESSION_SECRET_KEY: &str = "mockSessionSecretKeyEXAMPLE0123456789abcd";
/// Its session token.
pub const SESSION_TOKEN: &str = "mock-session-token-EXAMPLE";
/// A session token the mock calls expired.
pub const EXPIRED_TOKEN: &str = "expired-token";
/// The Bedrock API key the mock accepts.
pub const EXAMPLE_API_KEY: &str = "bedrock-api-key-EXAMPLE";

/// A known key; its `Debug` redacts the secret and the token.
#[derive(Clone)]
pub struct Key {
    /// Secret access key.
    pub secret: String,
    /// Session token the key requires, if any.
    pub session_token: Option<String>,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Key")
            .field("secret", &"** redacted **")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "** redacted **"),
            )
            .finish()
    }
}

/// Known keys and API keys; its `Debug` lists access key ids only.
#[derive(Clone)]
pub struct KeyStore {
    /// Access key id -> key.
    pub keys: HashMap<String, Key>,
    /// Accepted Bedrock API keys.
    pub api_keys: Vec<String>,
}

impl std::fmt::Debug for KeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut ids: Vec<&String> = self.keys.keys().collect();
        ids.sort();
        f.debug_struct("KeyStore")
            .field("access_keys", &ids)
            .field("api_keys", &self.api_keys.len())
            .finish()
    }
}

impl Default for KeyStore {
    fn default() -> Self {
        let mut keys = HashMap::new();
        keys.insert(
            EXAMPLE_ACCESS_KEY.to_owned(),
            Key {
                secret: EXAMPLE_SECRET_KEY.to_owned(),
                session_token: None,
            },
        );
        keys.insert(
            SESSION_ACCESS_KEY.to_owned(),
            Key {
                secret: SESSION_SECRET_KEY.to_owned(),
                session_token: Some(SESSION_TOKEN.to_owned()),
            },
        );
        Self {
            keys,
            api_keys: vec![EXAMPLE_API_KEY.to_owned()],
        }
    }
}

/// The credential scope of a verified signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// Access key id.
    pub access_key: String,
    /// `YYYYMMDD`.
    pub date: String,
    /// Region.
    pub region: String,
    /// Service.
    pub service: String,
}

/// How a request authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verified {
    /// A valid SigV4 signature.
    SigV4(Scope),
    /// A known Bedrock API key.
    Bearer,
}

/// A rejected request: Bedrock's error code and message (always 403).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthError {
    /// e.g. `InvalidSignatureException`.
    pub code: &'static str,
    /// Bedrock's message.
    pub message: String,
    /// The scope, when the header could be parsed (for recording).
    pub scope: Option<Box<Scope>>,
}

const INVALID_TOKEN: &str = "The security token included in the request is invalid.";
const BAD_SIGNATURE: &str = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

fn fail(code: &'static str, message: impl Into<String>, scope: Option<Scope>) -> AuthError {
    AuthError {
        code,
        message: message.into(),
        scope: scope.map(Box::new),
    }
}

/// What the verifier needs of a request.
#[derive(Debug)]
pub struct SignedRequest<'a> {
    /// Method.
    pub method: &'a str,
    /// The path as sent on the wire (percent-encoded).
    pub path: &'a str,
    /// The raw query, if any.
    pub query: Option<&'a str>,
    /// Headers.
    pub headers: &'a HeaderMap,
    /// The authority, for a `host` that travels as `:authority` (HTTP/2).
    pub authority: Option<&'a str>,
    /// Body.
    pub body: &'a [u8],
}

/// Verifies a request's authentication at time `now`.
pub fn verify(
    request: &SignedRequest<'_>,
    keys: &KeyStore,
    now: SystemTime,
) -> Result<Verified, AuthError> {
    let Some(authorization) = request
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
    else {
        return Err(fail(
            "MissingAuthenticationTokenException",
            "Missing Authentication Token",
            None,
        ));
    };
    if let Some(key) = authorization.strip_prefix("Bearer ") {
        return if keys.api_keys.iter().any(|k| k == key.trim()) {
            Ok(Verified::Bearer)
        } else {
            Err(fail(
                "UnrecognizedClientException",
                "Invalid API Key format: Must start with pre-defined prefix",
                None,
            ))
        };
    }
    let parsed = parse_authorization(authorization)?;
    let scope = parsed.scope.clone();
    let Some(key) = keys.keys.get(&scope.access_key) else {
        return Err(fail(
            "UnrecognizedClientException",
            INVALID_TOKEN,
            Some(scope),
        ));
    };
    check_session_token(request.headers, key, &scope)?;
    let amz_date = header(request.headers, "x-amz-date").ok_or_else(|| {
        fail(
            "IncompleteSignatureException",
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
            Some(scope.clone()),
        )
    })?;
    check_time(amz_date, &scope, now)?;
    if scope.service != "bedrock" {
        return Err(fail(
            "InvalidSignatureException",
            "Credential should be scoped to correct service: 'bedrock'. ",
            Some(scope),
        ));
    }
    let canonical = canonical_request(request, &parsed.signed_headers)?;
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{}/{}/{}/aws4_request\n{}",
        scope.date,
        scope.region,
        scope.service,
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let signing_key = [
        scope.date.as_str(),
        scope.region.as_str(),
        scope.service.as_str(),
        "aws4_request",
    ]
    .iter()
    .fold(format!("AWS4{}", key.secret).into_bytes(), |key, part| {
        hmac(&key, part.as_bytes())
    });
    let expected = hex::encode(hmac(&signing_key, string_to_sign.as_bytes()));
    if expected != parsed.signature {
        tracing::debug!(canonical_request = %canonical, "signature mismatch");
        return Err(fail(
            "InvalidSignatureException",
            BAD_SIGNATURE,
            Some(scope),
        ));
    }
    Ok(Verified::SigV4(scope))
}

struct ParsedAuthorization {
    scope: Scope,
    signed_headers: Vec<String>,
    signature: String,
}

fn parse_authorization(value: &str) -> Result<ParsedAuthorization, AuthError> {
    let incomplete = || {
        fail(
            "IncompleteSignatureException",
            format!(
                "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters. Authorization={value}"
            ),
            None,
        )
    };
    let rest = value
        .strip_prefix("AWS4-HMAC-SHA256 ")
        .ok_or_else(incomplete)?;
    let mut credential = None;
    let mut signed = None;
    let mut signature = None;
    for part in rest.split(',').map(str::trim) {
        match part.split_once('=') {
            Some(("Credential", v)) => credential = Some(v),
            Some(("SignedHeaders", v)) => signed = Some(v),
            Some(("Signature", v)) => signature = Some(v),
            _ => {}
        }
    }
    let (credential, signed, signature) = (
        credential.ok_or_else(incomplete)?,
        signed.ok_or_else(incomplete)?,
        signature.ok_or_else(incomplete)?,
    );
    let parts: Vec<&str> = credential.split('/').collect();
    let [access_key, date, region, service, "aws4_request"] = parts[..] else {
        return Err(incomplete());
    };
    Ok(ParsedAuthorization {
        scope: Scope {
            access_key: access_key.to_owned(),
            date: date.to_owned(),
            region: region.to_owned(),
            service: service.to_owned(),
        },
        signed_headers: signed.split(';').map(str::to_owned).collect(),
        signature: signature.to_owned(),
    })
}

fn check_session_token(headers: &HeaderMap, key: &Key, scope: &Scope) -> Result<(), AuthError> {
    let presented = header(headers, "x-amz-security-token");
    if presented == Some(EXPIRED_TOKEN) {
        return Err(fail(
            "ExpiredTokenException",
            "The security token included in the request is expired.",
            Some(scope.clone()),
        ));
    }
    match (&key.session_token, presented) {
        (None, None) => Ok(()),
        (Some(want), Some(got)) if want == got => Ok(()),
        _ => Err(fail(
            "UnrecognizedClientException",
            INVALID_TOKEN,
            Some(scope.clone()),
        )),
    }
}

fn check_time(amz_date: &str, scope: &Scope, now: SystemTime) -> Result<(), AuthError> {
    let stale = || {
        fail(
            "InvalidSignatureException",
            format!("Signature expired or not yet valid: {amz_date}"),
            Some(scope.clone()),
        )
    };
    let signed_at = parse_amz_date(amz_date).ok_or_else(stale)?;
    if !amz_date.starts_with(&scope.date) {
        return Err(fail(
            "InvalidSignatureException",
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP",
            Some(scope.clone()),
        ));
    }
    let window = Duration::from_secs(300);
    let message = if signed_at + window < now {
        format!(
            "Signature expired: {amz_date} is now earlier than {} ({} - 5 min.)",
            format_amz_date(now - window),
            format_amz_date(now)
        )
    } else if signed_at > now + window {
        format!(
            "Signature not yet current: {amz_date} is still later than {} ({} + 5 min.)",
            format_amz_date(now + window),
            format_amz_date(now)
        )
    } else {
        return Ok(());
    };
    Err(fail(
        "InvalidSignatureException",
        message,
        Some(scope.clone()),
    ))
}

/// Time -> `YYYYMMDDTHHMMSSZ` (UTC).
fn format_amz_date(time: SystemTime) -> String {
    let secs = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rest = secs % 86_400;
    // Civil date from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// `YYYYMMDDTHHMMSSZ` -> time.
fn parse_amz_date(value: &str) -> Option<SystemTime> {
    let b = value.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| value.get(r)?.parse::<i64>().ok();
    let (year, month, day) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (hour, minute, second) = (num(9..11)?, num(11..13)?, num(13..15)?);
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second;
    u64::try_from(secs)
        .ok()
        .map(|s| UNIX_EPOCH + Duration::from_secs(s))
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Every byte but `A-Za-z0-9-._~` percent-encoded (SigV4's URI encoding).
fn uri_encode(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    for b in input.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn canonical_request(
    request: &SignedRequest<'_>,
    signed_headers: &[String],
) -> Result<String, AuthError> {
    // Non-S3 services: each path segment, as sent, is encoded once more.
    let path = if request.path.is_empty() {
        "/"
    } else {
        request.path
    };
    let canonical_uri = path
        .split('/')
        .map(uri_encode)
        .collect::<Vec<_>>()
        .join("/");
    let mut query: Vec<(String, String)> = request
        .query
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let decode = |s: &str| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (uri_encode(&decode(k)), uri_encode(&decode(v)))
        })
        .collect();
    query.sort();
    let canonical_query = query
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let mut canonical_headers = String::new();
    for name in signed_headers {
        let values: Vec<String> = request
            .headers
            .get_all(name.as_str())
            .iter()
            .map(|v| collapse_spaces(&String::from_utf8_lossy(v.as_bytes())))
            .collect();
        let value = if values.is_empty() && name == "host" {
            request.authority.unwrap_or_default().to_owned()
        } else if values.is_empty() {
            return Err(fail("InvalidSignatureException", BAD_SIGNATURE, None));
        } else {
            values.join(",")
        };
        canonical_headers.push_str(&format!("{name}:{value}\n"));
    }
    let payload_hash = match header(request.headers, "x-amz-content-sha256") {
        Some("UNSIGNED-PAYLOAD") => "UNSIGNED-PAYLOAD".to_owned(),
        Some(declared) => {
            let actual = hex::encode(Sha256::digest(request.body));
            if declared != actual {
                return Err(fail(
                    "InvalidSignatureException",
                    "The provided 'x-amz-content-sha256' header does not match what was computed.",
                    None,
                ));
            }
            actual
        }
        None => hex::encode(Sha256::digest(request.body)),
    };
    Ok(format!(
        "{}\n{canonical_uri}\n{canonical_query}\n{canonical_headers}\n{}\n{payload_hash}",
        request.method,
        signed_headers.join(";")
    ))
}

fn collapse_spaces(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use aws_credential_types::Credentials;
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    use aws_sigv4::sign::v4;
    use aws_smithy_runtime_api::client::identity::Identity;

    use super::*;

    /// Signs with the aws-sigv4 crate: an independent signer checks our verifier.
    fn signed(
        path: &str,
        body: &[u8],
        access: &str,
        secret: &str,
        token: Option<&str>,
        region: &str,
        at: SystemTime,
    ) -> HeaderMap {
        let identity: Identity =
            Credentials::new(access, secret, token.map(str::to_owned), None, "test").into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(region)
            .name("bedrock")
            .time(at)
            .settings(SigningSettings::default())
            .build()
            .unwrap()
            .into();
        let uri = format!("https://bedrock-runtime.{region}.amazonaws.com{path}");
        let headers = [
            ("content-type", "application/json"),
            ("host", "bedrock-runtime.us-east-1.amazonaws.com"),
        ];
        let request =
            SignableRequest::new("POST", &uri, headers.into_iter(), SignableBody::Bytes(body))
                .unwrap();
        let (instructions, _) = sign(request, &params).unwrap().into_parts();
        let mut req = http::Request::post(&uri)
            .header("content-type", "application/json")
            .header("host", "bedrock-runtime.us-east-1.amazonaws.com")
            .body(())
            .unwrap();
        instructions.apply_to_request_http1x(&mut req);
        req.headers().clone()
    }

    fn check(
        headers: &HeaderMap,
        path: &str,
        body: &[u8],
        now: SystemTime,
    ) -> Result<Verified, AuthError> {
        let request = SignedRequest {
            method: "POST",
            path,
            query: None,
            headers,
            authority: None,
            body,
        };
        verify(&request, &KeyStore::default(), now)
    }

    const PATH: &str = "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse";

    #[test]
    fn accepts_what_aws_sigv4_signs_and_rejects_tampering() {
        let now = SystemTime::now();
        let body = br#"{"messages":[]}"#;
        let headers = signed(
            PATH,
            body,
            EXAMPLE_ACCESS_KEY,
            EXAMPLE_SECRET_KEY,
            None,
            "eu-west-3",
            now,
        );
        let Verified::SigV4(scope) = check(&headers, PATH, body, now).unwrap() else {
            panic!()
        };
        assert_eq!(
            (scope.region.as_str(), scope.service.as_str()),
            ("eu-west-3", "bedrock")
        );
        assert_eq!(
            check(&headers, PATH, b"{}", now).unwrap_err().code,
            "InvalidSignatureException"
        );
        assert_eq!(
            check(&headers, "/model/x/converse", body, now)
                .unwrap_err()
                .code,
            "InvalidSignatureException"
        );
        let later = now + Duration::from_secs(600);
        assert!(
            check(&headers, PATH, body, later)
                .unwrap_err()
                .message
                .contains("Signature expired")
        );
        let wrong = signed(
            PATH,
            body,
            EXAMPLE_ACCESS_KEY,
            "wrong",
            None,
            "us-east-1",
            now,
        );
        assert_eq!(
            check(&wrong, PATH, body, now).unwrap_err().code,
            "InvalidSignatureException"
        );
        let unknown = signed(
            PATH,
            body,
            "AKIAUNKNOWN000000000",
            "x",
            None,
            "us-east-1",
            now,
        );
        assert_eq!(
            check(&unknown, PATH, body, now).unwrap_err().code,
            "UnrecognizedClientException"
        );
    }

    #[test]
    fn session_tokens_are_required_and_checked() {
        let now = SystemTime::now();
        let good = signed(
            PATH,
            b"",
            SESSION_ACCESS_KEY,
            SESSION_SECRET_KEY,
            Some(SESSION_TOKEN),
            "us-east-1",
            now,
        );
        assert!(check(&good, PATH, b"", now).is_ok());
        let missing = signed(
            PATH,
            b"",
            SESSION_ACCESS_KEY,
            SESSION_SECRET_KEY,
            None,
            "us-east-1",
            now,
        );
        assert_eq!(
            check(&missing, PATH, b"", now).unwrap_err().code,
            "UnrecognizedClientException"
        );
        let expired = signed(
            PATH,
            b"",
            SESSION_ACCESS_KEY,
            SESSION_SECRET_KEY,
            Some(EXPIRED_TOKEN),
            "us-east-1",
            now,
        );
        assert_eq!(
            check(&expired, PATH, b"", now).unwrap_err().code,
            "ExpiredTokenException"
        );
    }

    #[test]
    fn bearer_keys_and_missing_authorization() {
        let mut headers = HeaderMap::new();
        assert_eq!(
            check(&headers, PATH, b"", SystemTime::now())
                .unwrap_err()
                .code,
            "MissingAuthenticationTokenException"
        );
        headers.insert(
            "authorization",
            format!("Bearer {EXAMPLE_API_KEY}").parse().unwrap(),
        );
        assert_eq!(
            check(&headers, PATH, b"", SystemTime::now()).unwrap(),
            Verified::Bearer
        );
        headers.insert("authorization", "Bearer nope".parse().unwrap());
        assert!(check(&headers, PATH, b"", SystemTime::now()).is_err());
    }

    #[test]
    fn parses_amz_dates() {
        assert_eq!(parse_amz_date("19700101T000000Z"), Some(UNIX_EPOCH));
        assert_eq!(
            parse_amz_date("20150830T123600Z"),
            Some(UNIX_EPOCH + Duration::from_secs(1_440_938_160))
        );
        assert_eq!(parse_amz_date("2015-08-30"), None);
        for date in [
            "19700101T000000Z",
            "20150830T123600Z",
            "20240229T235959Z",
            "21000301T010203Z",
        ] {
            assert_eq!(format_amz_date(parse_amz_date(date).unwrap()), date);
        }
    }
}
