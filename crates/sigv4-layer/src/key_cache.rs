//! [`SigningKeyCache`]: the derived SigV4 signing key, kept per secret key, day, region and
//! service.
//!
//! SigV4 signs with a key derived from the secret access key by four chained HMAC-SHA256
//! (`kDate`, `kRegion`, `kService`, `kSigning`). It only changes when the secret, the UTC date,
//! the region or the service does, so a signer that sends many requests with the same
//! credentials can derive it once a day instead of once per request.
//!
//! The cache is keyed by the **secret access key itself**, compared in constant time, never by
//! the access key id alone: with per-request credentials, a caller presenting a known access key
//! id with a wrong secret gets a signature made with that wrong secret, which AWS rejects, not
//! one made with a key cached for the right secret.
//!
//! It is small and bounded: a few entries (8 by default) behind a [`RwLock`]; once full, a new
//! entry replaces the oldest. A hit takes a shared lock for a scan of those few entries; a miss
//! derives the key outside any lock and takes the exclusive lock only to store it.
//!
//! Neither the secrets nor the derived keys ever show in `Debug` or in logs. An entry holds a
//! clone of the caller's [`Credentials`] (a reference count, not a copy of the secret), which
//! wipes its secret from memory when the last clone is dropped; the derived keys, 32 bytes each,
//! are plain arrays.
//!
//! The [`SigV4`](crate::SigV4) service always signs through its layer's cache; for
//! [`sign_request`](crate::sign_request) and [`sign_parts`](crate::sign_parts) pass one with
//! [`SigningParams::with_key_cache`](crate::SigningParams::with_key_cache).
//!
//! # Example
//!
//! ```
//! use std::time::{Duration, SystemTime};
//! use aws_credential_types::Credentials;
//! use sigv4_layer::{SigningKeyCache, SigningParams, sign_request};
//!
//! let cache = SigningKeyCache::new();
//! let creds = Credentials::new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", None, None, "example");
//! let time = SystemTime::UNIX_EPOCH + Duration::from_secs(1_440_938_160);
//! for _ in 0..3 {
//!     let mut req = http::Request::get("https://example.amazonaws.com/").body(Vec::new())?;
//!     let params = SigningParams::new(&creds, "us-east-1", "service", time).with_key_cache(&cache);
//!     sign_request(&mut req, &params)?;
//! }
//! assert_eq!(cache.len(), 1); // derived once, used three times
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::sync::{PoisonError, RwLock};

use aws_credential_types::Credentials;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

/// A derived SigV4 signing key (`kSigning`).
pub(crate) type SigningKey = [u8; 32];

/// How many entries [`SigningKeyCache::new`] keeps.
const DEFAULT_CAPACITY: usize = 8;

/// A small, bounded cache of derived SigV4 signing keys; see the [module docs](self).
///
/// Share one between signers with an `Arc`; it is `Send + Sync`. Its `Debug` output shows only
/// how many entries it holds.
pub struct SigningKeyCache {
    capacity: usize,
    state: RwLock<State>,
}

struct State {
    entries: Vec<Entry>,
    /// The entry a new key replaces once the cache is full: the oldest one.
    next: usize,
}

struct Entry {
    /// Holds the secret access key the key was derived from.
    credentials: Credentials,
    /// `YYYYMMDD`, UTC.
    date: [u8; 8],
    region: String,
    service: String,
    key: SigningKey,
}

impl Entry {
    /// Whether this entry holds the key for these inputs. The secret is compared last and in
    /// constant time (for secrets of the same length; a length is not a secret).
    fn matches(&self, secret: &str, date: &[u8; 8], region: &str, service: &str) -> bool {
        self.date == *date
            && self.region == region
            && self.service == service
            && bool::from(
                self.credentials
                    .secret_access_key()
                    .as_bytes()
                    .ct_eq(secret.as_bytes()),
            )
    }
}

impl SigningKeyCache {
    /// An empty cache of 8 entries: enough for a few credentials, regions and services at a time,
    /// and for the day boundary.
    pub fn new() -> Self {
        Self::with_capacity(DEFAULT_CAPACITY)
    }

    /// An empty cache of `capacity` entries (at least one).
    pub fn with_capacity(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Self {
            capacity,
            state: RwLock::new(State {
                entries: Vec::with_capacity(capacity),
                next: 0,
            }),
        }
    }

    /// How many entries the cache keeps at most.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// How many keys the cache holds now.
    pub fn len(&self) -> usize {
        self.read(|state| state.entries.len())
    }

    /// Whether the cache holds no key.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets every key (and drops the credentials clones the entries held).
    pub fn clear(&self) {
        let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
        state.entries.clear();
        state.next = 0;
    }

    fn read<T>(&self, f: impl FnOnce(&State) -> T) -> T {
        // Nothing panics while the lock is held, and the state is valid at every step anyway.
        f(&self.state.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// The signing key for `credentials`' secret on `date` (`YYYYMMDD`), from the cache or
    /// derived and stored.
    pub(crate) fn signing_key(
        &self,
        credentials: &Credentials,
        date: &[u8; 8],
        region: &str,
        service: &str,
    ) -> SigningKey {
        let secret = credentials.secret_access_key();
        let hit = self.read(|state| {
            state
                .entries
                .iter()
                .find(|e| e.matches(secret, date, region, service))
                .map(|e| e.key)
        });
        if let Some(key) = hit {
            return key;
        }

        let key = derive_signing_key(secret, date, region, service);
        let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
        // Another thread may have stored the same key meanwhile.
        if state
            .entries
            .iter()
            .any(|e| e.matches(secret, date, region, service))
        {
            return key;
        }
        if state.entries.len() < self.capacity {
            state.entries.push(Entry {
                credentials: credentials.clone(),
                date: *date,
                region: region.to_owned(),
                service: service.to_owned(),
                key,
            });
        } else {
            let next = state.next;
            state.next = (next + 1) % self.capacity;
            let oldest = &mut state.entries[next];
            oldest.credentials = credentials.clone();
            oldest.date = *date;
            // Reuses the strings' buffers.
            oldest.region.clear();
            oldest.region.push_str(region);
            oldest.service.clear();
            oldest.service.push_str(service);
            oldest.key = key;
        }
        key
    }
}

impl Default for SigningKeyCache {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for SigningKeyCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Only counts: no secret, no key, not even which credentials are cached.
        f.debug_struct("SigningKeyCache")
            .field("len", &self.len())
            .field("capacity", &self.capacity)
            .finish()
    }
}

/// `kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")`.
pub(crate) fn derive_signing_key(
    secret: &str,
    date: &[u8; 8],
    region: &str,
    service: &str,
) -> SigningKey {
    // "AWS4" + secret without a heap allocation for any ordinary secret (40 characters).
    let mut buf = [0_u8; 128];
    let k_date = if secret.len() + 4 <= buf.len() {
        let key = &mut buf[..secret.len() + 4];
        key[..4].copy_from_slice(b"AWS4");
        key[4..].copy_from_slice(secret.as_bytes());
        hmac(key, &[date])
    } else {
        hmac(format!("AWS4{secret}").as_bytes(), &[date])
    };
    // Best effort: the secret does not stay on the stack (`black_box` keeps the compiler from
    // dropping the dead store). A secret too long for the buffer goes through a `String`, as
    // aws-sigv4 does for every secret.
    buf.fill(0);
    std::hint::black_box(&mut buf);
    let k_region = hmac(&k_date, &[region.as_bytes()]);
    let k_service = hmac(&k_region, &[service.as_bytes()]);
    hmac(&k_service, &[b"aws4_request"])
}

/// HMAC-SHA256 of the concatenation of `parts` under `key`.
pub(crate) fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes a key of any length");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DATE: &[u8; 8] = b"20150830";

    fn creds(akid: &str, secret: &str) -> Credentials {
        Credentials::new(akid, secret, None, None, "test")
    }

    #[test]
    fn derivation_matches_the_aws_documentation_example() {
        // The AWS documentation's key-derivation example (secret, 20150830, us-east-1, iam),
        // also checked against aws-sigv4's own derivation.
        let key = derive_signing_key(
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            b"20150830",
            "us-east-1",
            "iam",
        );
        assert_eq!(
            hex::encode(key),
            "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9"
        );
        let time =
            std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_440_938_160);
        let aws = aws_sigv4::sign::v4::generate_signing_key(
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            time,
            "us-east-1",
            "iam",
        );
        assert_eq!(key.as_slice(), aws.as_ref());
    }

    #[test]
    fn long_secrets_are_derived_like_short_ones() {
        let long = "x".repeat(300);
        let expected = hmac(format!("AWS4{long}").as_bytes(), &[DATE]);
        let expected = hmac(&expected, &[b"r"]);
        let expected = hmac(&expected, &[b"s"]);
        let expected = hmac(&expected, &[b"aws4_request"]);
        assert_eq!(derive_signing_key(&long, DATE, "r", "s"), expected);
    }

    #[test]
    fn a_hit_returns_the_key_of_the_same_secret() {
        let cache = SigningKeyCache::new();
        let c = creds("AKID", "secret-one");
        let first = cache.signing_key(&c, DATE, "us-east-1", "bedrock");
        let second = cache.signing_key(&c, DATE, "us-east-1", "bedrock");
        assert_eq!(first, second);
        assert_eq!(
            first,
            derive_signing_key("secret-one", DATE, "us-east-1", "bedrock")
        );
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn the_same_access_key_id_with_another_secret_is_a_miss() {
        let cache = SigningKeyCache::new();
        let right = creds("AKIDKNOWN", "the-right-secret");
        let wrong = creds("AKIDKNOWN", "a-wrong-secret!!");
        let right_key = cache.signing_key(&right, DATE, "us-east-1", "bedrock");
        let wrong_key = cache.signing_key(&wrong, DATE, "us-east-1", "bedrock");
        assert_ne!(right_key, wrong_key);
        assert_eq!(
            wrong_key,
            derive_signing_key("a-wrong-secret!!", DATE, "us-east-1", "bedrock")
        );
        // A prefix of the right secret is not the right secret either.
        let prefix = creds("AKIDKNOWN", "the-right");
        assert_eq!(
            cache.signing_key(&prefix, DATE, "us-east-1", "bedrock"),
            derive_signing_key("the-right", DATE, "us-east-1", "bedrock")
        );
        assert_eq!(cache.len(), 3);
    }

    #[test]
    fn date_region_and_service_are_part_of_the_key() {
        let cache = SigningKeyCache::new();
        let c = creds("AKID", "secret");
        for (date, region, service) in [
            (b"20150830", "us-east-1", "bedrock"),
            (b"20150831", "us-east-1", "bedrock"),
            (b"20150830", "eu-west-3", "bedrock"),
            (b"20150830", "us-east-1", "sts"),
        ] {
            assert_eq!(
                cache.signing_key(&c, date, region, service),
                derive_signing_key("secret", date, region, service)
            );
        }
        assert_eq!(cache.len(), 4);
    }

    #[test]
    fn a_full_cache_replaces_its_oldest_entry() {
        let cache = SigningKeyCache::with_capacity(2);
        let (a, b, c) = (creds("A", "sa"), creds("B", "sb"), creds("C", "sc"));
        cache.signing_key(&a, DATE, "r", "s");
        cache.signing_key(&b, DATE, "r", "s");
        cache.signing_key(&c, DATE, "r", "s"); // replaces a
        assert_eq!(cache.len(), 2);
        let holds = |secret: &str| {
            cache.read(|state| {
                state
                    .entries
                    .iter()
                    .any(|e| e.matches(secret, DATE, "r", "s"))
            })
        };
        assert!(!holds("sa") && holds("sb") && holds("sc"));
        cache.signing_key(&a, DATE, "r", "s"); // replaces b
        assert!(holds("sa") && !holds("sb") && holds("sc"));
        // Every key still right after the replacements.
        for (cr, s) in [(&a, "sa"), (&b, "sb"), (&c, "sc")] {
            assert_eq!(
                cache.signing_key(cr, DATE, "r", "s"),
                derive_signing_key(s, DATE, "r", "s")
            );
        }
        cache.clear();
        assert!(cache.is_empty());
        assert_eq!(SigningKeyCache::with_capacity(0).capacity(), 1);
    }

    #[test]
    fn debug_shows_no_secret_and_no_key() {
        let cache = SigningKeyCache::new();
        let c = creds("AKIDVISIBLE", "sEcReTkEy");
        let key = cache.signing_key(&c, DATE, "us-east-1", "bedrock");
        let text = format!("{cache:?}");
        assert_eq!(text, "SigningKeyCache { len: 1, capacity: 8 }");
        let pretty = format!("{cache:#?}");
        assert!(!pretty.contains("sEcReT") && !pretty.contains(&hex::encode(key)));
    }

    #[test]
    fn concurrent_signers_agree() {
        let cache = std::sync::Arc::new(SigningKeyCache::with_capacity(3));
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let cache = cache.clone();
                std::thread::spawn(move || {
                    for i in 0..200 {
                        let secret = format!("secret-{}", (i + t) % 5);
                        let c = creds("AKID", &secret);
                        assert_eq!(
                            cache.signing_key(&c, DATE, "r", "s"),
                            derive_signing_key(&secret, DATE, "r", "s")
                        );
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(cache.len(), 3);
    }
}
