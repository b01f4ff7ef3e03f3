//! Bearer JWTs from the customer's identity provider. A token is verified
//! with the one algorithm its key verifies (RS256, ES256 or EdDSA from the
//! JWKS; HS256 from the shared secret), never the one its header claims
//! for itself, so `alg: none` and algorithm confusion (an RS256 public key
//! used as an HS256 secret) are refused. Then `exp` (required), `nbf`,
//! `iss` and `aud` are checked with the configured leeway, and its
//! workspace claim must name a workspace. A refusal says which check
//! failed, and never quotes the token.
//!
//! A verified token is kept in the process until it expires (a minute at
//! most), and known workspaces for good: on the hot path a token costs a
//! hash and a lookup, like a key.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, errors::ErrorKind};
use sea_orm::DatabaseConnection;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{
    jwks::{Jwks, Source},
    principal::Principal,
    scopes::Scopes,
};
use crate::{
    config::JwtConfig,
    error::AppError,
    service::{
        actor::{Actor, ActorKind},
        workspace,
    },
};

/// Longest a verified token is kept without a look.
const KEPT_FOR: Duration = Duration::from_secs(60);
/// Verified tokens kept at once; past it, the process starts over.
const KEPT_TOKENS: usize = 10_000;

/// Verifies tokens.
pub struct Tokens {
    jwks: Option<Arc<Jwks>>,
    secret: Option<DecodingKey>,
    validation: Validation,
    leeway: chrono::Duration,
    workspace_claim: String,
    scope_claim: String,
    db: DatabaseConnection,
    verified: Mutex<HashMap<[u8; 32], (Principal, Instant)>>,
    workspaces: Mutex<HashSet<Uuid>>,
}

/// The claims read of every token; the configured ones by name.
#[derive(Deserialize)]
struct Claims {
    // Optional here so that a missing one is refused by name below.
    sub: Option<String>,
    exp: Option<i64>,
    name: Option<String>,
    #[serde(flatten)]
    others: serde_json::Map<String, serde_json::Value>,
}

impl Tokens {
    /// Tokens as `config` says, if it names a key; `None` when the gateway
    /// takes keys only.
    pub async fn load(config: &JwtConfig, db: DatabaseConnection) -> anyhow::Result<Option<Self>> {
        let jwks = match &config.jwt_jwks {
            Some(source) => Some(Jwks::load(Source::parse(source)).await?),
            None => None,
        };
        let secret = match &config.jwt_secret_file {
            Some(path) => {
                let bytes = tokio::fs::read(path)
                    .await
                    .with_context(|| format!("cannot read --jwt-secret-file {}", path.display()))?;
                let secret = String::from_utf8_lossy(&bytes)
                    .trim_end()
                    .as_bytes()
                    .to_vec();
                anyhow::ensure!(
                    secret.len() >= 32,
                    "--jwt-secret-file {} holds {} bytes; an HS256 secret needs at least 32",
                    path.display(),
                    secret.len()
                );
                Some(DecodingKey::from_secret(&secret)?)
            }
            None => None,
        };
        if jwks.is_none() && secret.is_none() {
            return Ok(None);
        }
        let mut validation = Validation::new(Algorithm::RS256);
        validation.leeway = config.jwt_leeway_secs;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "sub"]);
        validation.validate_aud = config.jwt_audience.is_some();
        if let Some(audience) = &config.jwt_audience {
            validation.set_audience(&[audience]);
            validation.required_spec_claims.insert("aud".to_owned());
        }
        if let Some(issuer) = &config.jwt_issuer {
            validation.set_issuer(&[issuer]);
            validation.required_spec_claims.insert("iss".to_owned());
        }
        Ok(Some(Self {
            jwks,
            secret,
            validation,
            leeway: chrono::Duration::seconds(config.jwt_leeway_secs as i64),
            workspace_claim: config.jwt_workspace_claim.clone(),
            scope_claim: config.jwt_scope_claim.clone(),
            db,
            verified: Mutex::new(HashMap::new()),
            workspaces: Mutex::new(HashSet::new()),
        }))
    }

    /// The principal `token` names, verified.
    pub async fn verify(&self, token: &str) -> Result<Principal, AppError> {
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        if let Some(principal) = self.kept(&digest) {
            return Ok(principal);
        }
        let principal = self.check(token).await?;
        let until = (principal.expires_at.unwrap_or_else(Utc::now) - Utc::now())
            .to_std()
            .unwrap_or_default()
            .min(KEPT_FOR);
        let mut verified = self.verified.lock().unwrap_or_else(|p| p.into_inner());
        if verified.len() >= KEPT_TOKENS {
            verified.clear();
        }
        verified.insert(digest, (principal.clone(), Instant::now() + until));
        Ok(principal)
    }

    fn kept(&self, digest: &[u8; 32]) -> Option<Principal> {
        let verified = self.verified.lock().unwrap_or_else(|p| p.into_inner());
        let (principal, until) = verified.get(digest)?;
        (Instant::now() < *until).then(|| principal.clone())
    }

    async fn check(&self, token: &str) -> Result<Principal, AppError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| {
            if names_an_algorithm(token) {
                refused("the token's algorithm is not one this gateway accepts (RS256, ES256, EdDSA, HS256)")
            } else {
                refused("the token is not a well-formed JWT")
            }
        })?;
        if !matches!(
            header.alg,
            Algorithm::RS256 | Algorithm::ES256 | Algorithm::EdDSA | Algorithm::HS256
        ) {
            return Err(refused(
                "the token's algorithm is not one this gateway accepts (RS256, ES256, EdDSA, HS256)",
            ));
        }
        let (key, algorithm) = if header.alg == Algorithm::HS256 {
            let secret = self.secret.as_ref().ok_or_else(|| {
                refused("HS256 tokens are not accepted: the gateway has no --jwt-secret-file")
            })?;
            (secret.clone(), Algorithm::HS256)
        } else {
            let jwks = self.jwks.as_ref().ok_or_else(|| {
                refused(
                    "tokens signed with a key pair are not accepted: the gateway has no --jwt-jwks",
                )
            })?;
            let key = jwks.key(header.kid.as_deref()).await.ok_or_else(|| {
                refused("the token's key (its kid) is not in the identity provider's JWKS")
            })?;
            (key.key, key.algorithm)
        };
        let mut validation = self.validation.clone();
        validation.algorithms = vec![algorithm];
        let data = jsonwebtoken::decode::<Claims>(token, &key, &validation).map_err(|error| {
            refused(match error.kind() {
                ErrorKind::ExpiredSignature => "the token has expired",
                ErrorKind::ImmatureSignature => "the token is not valid yet (nbf)",
                ErrorKind::InvalidIssuer => {
                    "the token's issuer (iss) is not the one this gateway trusts"
                }
                ErrorKind::InvalidAudience => "the token's audience (aud) is not this gateway's",
                ErrorKind::InvalidSignature => "the token's signature does not verify",
                ErrorKind::InvalidAlgorithm => {
                    "the token's algorithm is not the one its key signs with"
                }
                ErrorKind::MissingRequiredClaim(claim) => match claim.as_str() {
                    "exp" => "the token has no expiry (exp)",
                    "sub" => "the token has no subject (sub)",
                    "iss" => "the token has no issuer (iss)",
                    "aud" => "the token has no audience (aud)",
                    _ => "the token lacks a claim this gateway requires",
                },
                ErrorKind::InvalidClaimFormat(_) | ErrorKind::Json(_) => {
                    "the token's claims are not what a JWT's are (sub and exp)"
                }
                _ => "the token does not verify",
            })
        })?;
        let claims = data.claims;
        let exp = claims
            .exp
            .ok_or_else(|| refused("the token has no expiry (exp)"))?;
        let sub = claims
            .sub
            .clone()
            .ok_or_else(|| refused("the token has no subject (sub)"))?;
        // At `exp` itself a token has expired (RFC 7519 4.1.4); the
        // library lets it through for that second. Sockets close then too.
        if exp + self.leeway.num_seconds() <= Utc::now().timestamp() {
            return Err(refused("the token has expired"));
        }
        let workspace_id = self.workspace(&claims).await?;
        let scopes = match claims.others.get(&self.scope_claim) {
            Some(serde_json::Value::String(text)) => Scopes::from_claim(text),
            Some(serde_json::Value::Array(items)) => {
                let words: Vec<&str> = items.iter().filter_map(|item| item.as_str()).collect();
                Scopes::from_claim(&words.join(" "))
            }
            _ => Scopes::default(),
        };
        let expires_at = DateTime::<Utc>::from_timestamp(exp, 0)
            .map(|at| at + self.leeway)
            .ok_or_else(|| refused("the token's expiry (exp) is out of range"))?;
        let holder = format!("token:{workspace_id}:{sub}");
        Ok(Principal {
            workspace_id,
            actor: Actor {
                kind: ActorKind::User,
                id: sub,
                name: claims.name,
            },
            scopes,
            expires_at: Some(expires_at),
            holder: holder.into(),
        })
    }

    /// The workspace the token's workspace claim names; it must exist.
    async fn workspace(&self, claims: &Claims) -> Result<Uuid, AppError> {
        let claim = &self.workspace_claim;
        let id = claims
            .others
            .get(claim)
            .and_then(|value| value.as_str())
            .ok_or_else(|| refused(format!("the token names no workspace (claim {claim})")))?;
        let id: Uuid = id
            .parse()
            .map_err(|_| refused(format!("the token's {claim} claim is not a workspace id")))?;
        if self
            .workspaces
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&id)
        {
            return Ok(id);
        }
        if !workspace::exists(&self.db, id).await? {
            return Err(refused("the token's workspace does not exist"));
        }
        self.workspaces
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id);
        Ok(id)
    }
}

/// Whether a header that did not decode is a JSON object naming an
/// `alg` (one unknown to the library, like `none`).
fn names_an_algorithm(token: &str) -> bool {
    use base64::Engine as _;
    let Some(header) = token.split('.').next() else {
        return false;
    };
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        .is_some_and(|header| header.get("alg").is_some_and(|alg| alg.is_string()))
}

fn refused(why: impl Into<std::borrow::Cow<'static, str>>) -> AppError {
    AppError::InvalidToken(why.into())
}
