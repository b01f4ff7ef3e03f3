//! The identity provider's signing keys (a JSON Web Key Set), from a URL
//! or a file. Fetched at start (a failure stops the start), refreshed as
//! its `Cache-Control: max-age` says (between a minute and a day; 15
//! minutes without one), and fetched again when a token names a key it
//! does not hold, at most once every few seconds, so made-up key ids
//! cannot hammer the issuer. While the issuer cannot be reached, the keys
//! already held keep serving.

use std::{
    collections::HashMap,
    path::PathBuf,
    sync::{Arc, Mutex, RwLock},
    time::{Duration, Instant},
};

use anyhow::{Context as _, bail};
use jsonwebtoken::{
    Algorithm, DecodingKey,
    jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm},
};

/// Shortest and longest time between two refreshes, and the time without
/// a `max-age`.
const MIN_REFRESH: Duration = Duration::from_secs(60);
const MAX_REFRESH: Duration = Duration::from_secs(24 * 3600);
const DEFAULT_REFRESH: Duration = Duration::from_secs(15 * 60);
/// Least time between two fetches for an unknown key id.
const UNKNOWN_KID_INTERVAL: Duration = Duration::from_secs(5);
/// Largest key set read.
const MAX_BYTES: usize = 1 << 20;

/// Where the keys come from.
#[derive(Debug, Clone)]
pub enum Source {
    Url(String),
    File(PathBuf),
}

impl Source {
    /// `--jwt-jwks`: an `http(s)://` URL, or a file.
    pub fn parse(text: &str) -> Self {
        if text.starts_with("https://") || text.starts_with("http://") {
            Self::Url(text.to_owned())
        } else {
            Self::File(PathBuf::from(text))
        }
    }
}

/// A key of the set, with the one algorithm it verifies.
#[derive(Clone)]
pub struct Key {
    pub key: DecodingKey,
    pub algorithm: Algorithm,
}

/// The keys held now, by key id (keys without one apart).
#[derive(Default)]
struct Keys {
    by_kid: HashMap<String, Key>,
    unnamed: Vec<Key>,
}

/// The key set.
pub struct Jwks {
    source: Source,
    client: reqwest::Client,
    keys: RwLock<Arc<Keys>>,
    /// The last fetch made for an unknown key id.
    last_unknown: Mutex<Option<Instant>>,
}

impl Jwks {
    /// Fetches the set from `source`; its refreshes run in the background.
    pub async fn load(source: Source) -> anyhow::Result<Arc<Self>> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::limited(3))
            .build()
            .context("cannot make an HTTP client")?;
        let jwks = Arc::new(Self {
            source,
            client,
            keys: RwLock::default(),
            last_unknown: Mutex::new(None),
        });
        let every = jwks.fetch().await?;
        let refreshing = Arc::downgrade(&jwks);
        tokio::spawn(async move {
            let mut every = every;
            loop {
                tokio::time::sleep(every).await;
                let Some(jwks) = refreshing.upgrade() else {
                    return;
                };
                every = match jwks.fetch().await {
                    Ok(next) => next,
                    Err(error) => {
                        tracing::warn!(error = %format!("{error:#}"), "cannot refresh the JWKS; keeping the keys held");
                        MIN_REFRESH
                    }
                };
            }
        });
        Ok(jwks)
    }

    /// The key a token's `kid` names (or the only key, when it names
    /// none), fetching the set again once for a key it does not hold.
    pub async fn key(&self, kid: Option<&str>) -> Option<Key> {
        if let Some(key) = self.held(kid) {
            return Some(key);
        }
        if self.may_fetch_for_unknown() {
            if let Err(error) = self.fetch().await {
                tracing::warn!(error = %format!("{error:#}"), "cannot fetch the JWKS for an unknown key id");
            }
            return self.held(kid);
        }
        None
    }

    fn held(&self, kid: Option<&str>) -> Option<Key> {
        let keys = self.keys.read().unwrap_or_else(|p| p.into_inner()).clone();
        match kid {
            Some(kid) => keys.by_kid.get(kid).cloned(),
            None => match (keys.by_kid.len(), keys.unnamed.len()) {
                (0, 1) => keys.unnamed.first().cloned(),
                (1, 0) => keys.by_kid.values().next().cloned(),
                _ => None,
            },
        }
    }

    fn may_fetch_for_unknown(&self) -> bool {
        let mut last = self.last_unknown.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        if last.is_some_and(|at| now - at < UNKNOWN_KID_INTERVAL) {
            return false;
        }
        *last = Some(now);
        true
    }

    /// Reads the set and holds its keys; returns when to refresh.
    async fn fetch(&self) -> anyhow::Result<Duration> {
        let (text, every) = match &self.source {
            Source::Url(url) => {
                let response = self
                    .client
                    .get(url)
                    .send()
                    .await
                    .with_context(|| format!("cannot fetch the JWKS at {url}"))?;
                if !response.status().is_success() {
                    bail!("cannot fetch the JWKS at {url}: HTTP {}", response.status());
                }
                let every = max_age(response.headers()).unwrap_or(DEFAULT_REFRESH);
                let bytes = response
                    .bytes()
                    .await
                    .with_context(|| format!("cannot read the JWKS at {url}"))?;
                if bytes.len() > MAX_BYTES {
                    bail!("the JWKS at {url} is larger than {MAX_BYTES} bytes");
                }
                (String::from_utf8_lossy(&bytes).into_owned(), every)
            }
            Source::File(path) => {
                let text = tokio::fs::read_to_string(path)
                    .await
                    .with_context(|| format!("cannot read the JWKS file {}", path.display()))?;
                (text, DEFAULT_REFRESH)
            }
        };
        let keys = parse(&text)?;
        *self.keys.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(keys);
        Ok(every.clamp(MIN_REFRESH, MAX_REFRESH))
    }
}

/// The keys of a JWKS document that sign with RS256, ES256 or EdDSA; keys
/// for other uses or algorithms are passed over. None at all is an error.
fn parse(text: &str) -> anyhow::Result<Keys> {
    let document: serde_json::Value = serde_json::from_str(text).context("the JWKS is not JSON")?;
    let entries = document["keys"]
        .as_array()
        .context("the JWKS has no \"keys\" list")?;
    let mut keys = Keys::default();
    for entry in entries {
        let Ok(jwk) = serde_json::from_value::<Jwk>(entry.clone()) else {
            continue;
        };
        let Some(algorithm) = algorithm(&jwk) else {
            continue;
        };
        let Ok(key) = DecodingKey::from_jwk(&jwk) else {
            continue;
        };
        let key = Key { key, algorithm };
        match jwk.common.key_id {
            Some(kid) => {
                keys.by_kid.insert(kid, key);
            }
            None => keys.unnamed.push(key),
        }
    }
    if keys.by_kid.is_empty() && keys.unnamed.is_empty() {
        bail!("the JWKS holds no RS256, ES256 or EdDSA signing key");
    }
    Ok(keys)
}

/// The one algorithm a key verifies: the one it names, if it is one this
/// gateway accepts for its kind of key, or its kind's. A shared-secret key
/// (`oct`) in a JWKS is never used.
fn algorithm(jwk: &Jwk) -> Option<Algorithm> {
    if jwk
        .common
        .public_key_use
        .as_ref()
        .is_some_and(|usage| *usage != jsonwebtoken::jwk::PublicKeyUse::Signature)
    {
        return None;
    }
    let by_kind = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => Algorithm::RS256,
        AlgorithmParameters::EllipticCurve(ec) if ec.curve == EllipticCurve::P256 => {
            Algorithm::ES256
        }
        AlgorithmParameters::OctetKeyPair(okp) if okp.curve == EllipticCurve::Ed25519 => {
            Algorithm::EdDSA
        }
        _ => return None,
    };
    let named = match jwk.common.key_algorithm {
        None => return Some(by_kind),
        Some(KeyAlgorithm::RS256) => Algorithm::RS256,
        Some(KeyAlgorithm::ES256) => Algorithm::ES256,
        Some(KeyAlgorithm::EdDSA) => Algorithm::EdDSA,
        Some(_) => return None,
    };
    (named == by_kind).then_some(by_kind)
}

/// `Cache-Control: max-age=N`.
fn max_age(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers.get(reqwest::header::CACHE_CONTROL)?.to_str().ok()?;
    value.split(',').find_map(|directive| {
        let seconds = directive.trim().strip_prefix("max-age=")?;
        seconds.trim().parse().ok().map(Duration::from_secs)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_other_than_signing_keys_of_accepted_algorithms_are_passed_over() {
        let text = r#"{"keys": [
            {"kty": "oct", "kid": "secret", "k": "c2VjcmV0"},
            {"kty": "EC", "kid": "p384", "crv": "P-384", "x": "AA", "y": "AA"},
            {"kty": "RSA", "kid": "enc", "use": "enc", "n": "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw", "e": "AQAB"},
            {"kty": "RSA", "kid": "ps", "alg": "PS256", "n": "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw", "e": "AQAB"},
            {"kty": "RSA", "kid": "sig", "n": "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw", "e": "AQAB"}
        ]}"#;
        let keys = parse(text).unwrap();
        assert_eq!(keys.by_kid.keys().collect::<Vec<_>>(), vec!["sig"]);
        assert_eq!(keys.by_kid["sig"].algorithm, Algorithm::RS256);
        assert!(parse(r#"{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}"#).is_err());
        assert!(parse("{}").is_err());
    }

    #[test]
    fn max_age_bounds_the_refresh() {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            "cache-control",
            "public, max-age=300, must-revalidate".parse().unwrap(),
        );
        assert_eq!(max_age(&headers), Some(Duration::from_secs(300)));
        headers.insert("cache-control", "no-store".parse().unwrap());
        assert_eq!(max_age(&headers), None);
    }
}
