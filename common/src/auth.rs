//! Who is calling: bearer tokens issued by the store subgraph, verified here
//! against its published public keys (a JWKS).
//!
//! Every subgraph verifies again even though the router already did: a
//! subgraph may be reached directly inside the cluster, and the store a
//! request is scoped to must come from a token this service checked itself.

use std::{
    collections::HashMap,
    sync::{Arc, PoisonError},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use anyhow::Context as _;
use jsonwebtoken::{
    Algorithm, DecodingKey, Validation,
    jwk::{Jwk, JwkSet},
};
use serde::{Deserialize, Serialize};
use tokio::sync::{Mutex, RwLock};
use uuid::Uuid;

use crate::{
    Error, Result,
    config::AuthSettings,
    events::store_access::{Access, StoreAccess},
};

/// The claims of a Salesync access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The store the token acts for.
    pub sub: Uuid,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    /// The store's username when the token was issued (for logs).
    pub username: String,
    /// The store's token generation when the token was issued. A password
    /// change starts a new one; older tokens are refused from then on.
    #[serde(rename = "gen", default)]
    pub generation: i64,
}

/// The caller of one request, placed in the GraphQL context.
#[derive(Debug, Clone)]
pub enum Caller {
    /// No `Authorization` header: only public operations are allowed.
    Anonymous,
    /// A verified token, kept to act for the caller towards other subgraphs.
    Store { claims: Claims, token: String },
    /// A token was sent but did not verify; the reason is for logs only.
    Rejected(String),
    /// A well-signed token whose store could not be checked just now (the
    /// database was away): refused, but as unavailable, so the client
    /// retries instead of signing the owner out.
    Unchecked(String),
}

impl Caller {
    /// The caller's store, or `UNAUTHENTICATED`.
    pub fn store_id(&self) -> Result<Uuid> {
        match self {
            Caller::Store { claims, .. } => Ok(claims.sub),
            _ => Err(self.refusal()),
        }
    }

    /// The caller's store and the token that proves it, to call another
    /// subgraph on the caller's behalf; or `UNAUTHENTICATED`.
    pub fn acting(&self) -> Result<Acting> {
        match self {
            Caller::Store { claims, token } => Ok(Acting {
                store_id: claims.sub,
                token: token.clone(),
            }),
            _ => Err(self.refusal()),
        }
    }

    fn refusal(&self) -> Error {
        match self {
            Caller::Anonymous => Error::unauthenticated(
                "authentication required: send `Authorization: Bearer <token>`",
            ),
            Caller::Unchecked(_) => Error::Unavailable {
                message: "the token could not be checked just now; try again".to_string(),
                retry_after_secs: 1,
            },
            _ => Error::unauthenticated(
                "authentication required: the token is missing, expired or invalid",
            ),
        }
    }
}

/// A store and its bearer token, for calls to other subgraphs.
#[derive(Debug, Clone)]
pub struct Acting {
    pub store_id: Uuid,
    pub token: String,
}

/// Access to the caller from a resolver: `ctx.store_id()?`.
pub trait CallerExt {
    fn caller(&self) -> &Caller;
    fn store_id(&self) -> Result<Uuid> {
        self.caller().store_id()
    }
    fn acting(&self) -> Result<Acting> {
        self.caller().acting()
    }
    /// The store a `Store` entity reference names, when it is the caller's
    /// own: every subgraph's `find_store_by_id`. Another store's id (or one
    /// that is no id at all) is `NOT_FOUND`.
    fn own_store(&self, id: &str) -> Result<Uuid> {
        let store_id = self.store_id()?;
        match Uuid::parse_str(id.trim()) {
            Ok(requested) if requested == store_id => Ok(store_id),
            _ => Err(Error::not_found("no such store")),
        }
    }
}

impl CallerExt for async_graphql::Context<'_> {
    fn caller(&self) -> &Caller {
        self.data_opt::<Caller>().unwrap_or(&Caller::Anonymous)
    }
}

/// Where verification keys come from.
enum KeySource {
    /// Keys this process holds itself (the store subgraph).
    Static(HashMap<String, (DecodingKey, Algorithm)>),
    /// A JWKS document fetched over HTTP, cached, refreshed when a token names
    /// a key id we have not seen (key rotation), at most once per `min_refresh`.
    Remote(RemoteJwks),
}

struct RemoteJwks {
    url: String,
    client: reqwest::Client,
    keys: RwLock<HashMap<String, (DecodingKey, Algorithm)>>,
    last_fetch: Mutex<Option<Instant>>,
    min_refresh: Duration,
}

/// Verifies bearer tokens.
#[derive(Clone)]
pub struct TokenVerifier {
    keys: Arc<KeySource>,
    issuer: String,
    audience: String,
    /// Which stores were deleted and which token generations revoked
    /// (`events::store_access`): those tokens are refused.
    store_access: Option<StoreAccess>,
    verified: Arc<VerifiedTokens>,
}

impl TokenVerifier {
    /// A verifier that fetches the JWKS published at `settings.jwks_url`.
    pub fn remote(settings: &AuthSettings) -> Self {
        TokenVerifier {
            keys: Arc::new(KeySource::Remote(RemoteJwks {
                url: settings.jwks_url.clone(),
                client: reqwest::Client::builder()
                    .timeout(Duration::from_secs(5))
                    .build()
                    .expect("BUG: a plain HTTP client always builds"),
                keys: RwLock::new(HashMap::new()),
                last_fetch: Mutex::new(None),
                min_refresh: Duration::from_secs(10),
            })),
            issuer: settings.issuer.clone(),
            audience: settings.audience.clone(),
            store_access: None,
            verified: Arc::default(),
        }
    }

    /// Also refuses tokens of the stores `access` knows were deleted, and
    /// tokens older than their store's floor.
    pub fn checking_store_access(mut self, access: StoreAccess) -> Self {
        self.store_access = Some(access);
        self
    }

    /// A verifier for keys held in this process.
    pub fn from_jwks(settings: &AuthSettings, jwks: &JwkSet) -> anyhow::Result<Self> {
        Ok(TokenVerifier {
            keys: Arc::new(KeySource::Static(decoding_keys(jwks)?)),
            issuer: settings.issuer.clone(),
            audience: settings.audience.clone(),
            store_access: None,
            verified: Arc::default(),
        })
    }

    /// Turns an `Authorization` header value into the caller.
    pub async fn caller_from_header(&self, header: Option<&str>) -> Caller {
        let Some(value) = header.map(str::trim).filter(|v| !v.is_empty()) else {
            return Caller::Anonymous;
        };
        let Some(token) = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
        else {
            return Caller::Rejected("the Authorization header is not a bearer token".into());
        };
        match self.verify(token.trim()).await {
            Ok(claims) => match self.access(&claims).await {
                Ok(Access::Granted) => Caller::Store {
                    claims,
                    token: token.trim().to_string(),
                },
                Ok(Access::Deleted) => Caller::Rejected("the store was deleted".into()),
                Ok(Access::Revoked) => {
                    Caller::Rejected("the token was revoked by a password change".into())
                }
                // Fail closed: a request that cannot be checked is not
                // trusted, yet its token is not called bad.
                Err(reason) => Caller::Unchecked(reason),
            },
            Err(reason) => {
                tracing::debug!(%reason, "token rejected");
                Caller::Rejected(reason)
            }
        }
    }

    async fn access(&self, claims: &Claims) -> Result<Access, String> {
        match &self.store_access {
            None => Ok(Access::Granted),
            Some(access) => access
                .check(claims.sub, claims.generation)
                .await
                .map_err(|e| {
                    tracing::warn!(error = %e, "failed to check the store's access");
                    "the store could not be checked".to_string()
                }),
        }
    }

    /// Verifies signature, issuer, audience and expiry. A token that verified
    /// before is answered from memory while it has not expired.
    pub async fn verify(&self, token: &str) -> Result<Claims, String> {
        let now = unix_now();
        if let Some(claims) = self.verified.get(token, now) {
            return Ok(claims);
        }
        let keys_seen = self.verified.keys_seen();
        let claims = self.verify_signed(token).await?;
        self.verified.keep(token, &claims, keys_seen, now);
        Ok(claims)
    }

    async fn verify_signed(&self, token: &str) -> Result<Claims, String> {
        let header = jsonwebtoken::decode_header(token).map_err(|e| e.to_string())?;
        let kid = header.kid.ok_or("the token names no key id")?;
        let (key, algorithm) = self.key(&kid).await?;
        if header.alg != algorithm {
            return Err(format!(
                "the token's algorithm {:?} is not its key's",
                header.alg
            ));
        }
        let mut validation = Validation::new(algorithm);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = EXPIRY_LEEWAY_SECS.unsigned_abs();
        jsonwebtoken::decode::<Claims>(token, &key, &validation)
            .map(|data| data.claims)
            .map_err(|e| e.to_string())
    }

    async fn key(&self, kid: &str) -> Result<(DecodingKey, Algorithm), String> {
        match &*self.keys {
            KeySource::Static(keys) => keys.get(kid).cloned().ok_or_else(|| unknown_key(kid)),
            KeySource::Remote(remote) => {
                if let Some(found) = remote.keys.read().await.get(kid) {
                    return Ok(found.clone());
                }
                if remote.refresh().await? {
                    self.verified.forget_all();
                }
                remote
                    .keys
                    .read()
                    .await
                    .get(kid)
                    .cloned()
                    .ok_or_else(|| unknown_key(kid))
            }
        }
    }
}

fn unknown_key(kid: &str) -> String {
    format!("no published key has id {kid:?}")
}

impl RemoteJwks {
    /// Fetches the keys again unless that was tried moments ago; true when
    /// the keys were replaced.
    async fn refresh(&self) -> Result<bool, String> {
        let mut last = self.last_fetch.lock().await;
        if last.is_some_and(|at| at.elapsed() < self.min_refresh) {
            return Ok(false);
        }
        let fetched = async {
            let jwks: JwkSet = self
                .client
                .get(&self.url)
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
            anyhow::Ok(jwks)
        }
        .await
        .and_then(|jwks| decoding_keys(&jwks));
        match fetched {
            Ok(keys) => {
                *last = Some(Instant::now());
                *self.keys.write().await = keys;
                Ok(true)
            }
            Err(e) => {
                // A store subgraph that is still starting must not make every
                // request wait: remember the attempt and retry after the pause.
                *last = Some(Instant::now());
                tracing::warn!(url = %self.url, error = ?e, "failed to fetch the JWKS");
                Err(format!("the signing keys could not be fetched: {e}"))
            }
        }
    }
}

/// How late an expiry is still accepted, for clocks that disagree a little.
const EXPIRY_LEEWAY_SECS: i64 = 30;

/// At most this many verified tokens are remembered (a few MiB); past it the
/// expired ones go, and if none has, all of them.
const MAX_VERIFIED: usize = 10_000;

/// Tokens whose signature, issuer and audience were checked, with their
/// claims. A terminal sends the same token with every request for hours, and
/// the signature check is the costliest part of reading it. Only what the
/// token itself proves is kept: whether its store still stands is asked on
/// every request, and expiry is checked on every use.
#[derive(Default)]
struct VerifiedTokens(std::sync::Mutex<Verified>);

#[derive(Default)]
struct Verified {
    /// Moves on each time the verification keys are replaced, so a check
    /// made against the old keys is not remembered after they went.
    keys: u64,
    claims: HashMap<Box<str>, Claims>,
}

impl VerifiedTokens {
    fn get(&self, token: &str, now: i64) -> Option<Claims> {
        let verified = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        verified
            .claims
            .get(token)
            .filter(|claims| unexpired(claims, now))
            .cloned()
    }

    fn keys_seen(&self) -> u64 {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).keys
    }

    /// Remembers a token checked against the keys of `keys_seen`.
    fn keep(&self, token: &str, claims: &Claims, keys_seen: u64, now: i64) {
        let mut verified = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if verified.keys != keys_seen {
            return;
        }
        if verified.claims.len() >= MAX_VERIFIED {
            verified.claims.retain(|_, claims| unexpired(claims, now));
            if verified.claims.len() >= MAX_VERIFIED {
                verified.claims.clear();
            }
        }
        verified.claims.insert(token.into(), claims.clone());
    }

    fn forget_all(&self) {
        let mut verified = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        verified.keys += 1;
        verified.claims.clear();
    }
}

fn unexpired(claims: &Claims, now: i64) -> bool {
    claims.exp >= now - EXPIRY_LEEWAY_SECS
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs() as i64)
}

/// Only the asymmetric algorithms Salesync signs with are accepted: a JWKS
/// entry cannot downgrade verification to a shared secret.
fn decoding_keys(jwks: &JwkSet) -> anyhow::Result<HashMap<String, (DecodingKey, Algorithm)>> {
    let mut keys = HashMap::new();
    for jwk in &jwks.keys {
        let Some(kid) = jwk.common.key_id.clone() else {
            continue;
        };
        let algorithm = jwk_algorithm(jwk)?;
        let key = DecodingKey::from_jwk(jwk).with_context(|| format!("invalid JWK {kid}"))?;
        keys.insert(kid, (key, algorithm));
    }
    Ok(keys)
}

fn jwk_algorithm(jwk: &Jwk) -> anyhow::Result<Algorithm> {
    use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve};
    match &jwk.algorithm {
        AlgorithmParameters::OctetKeyPair(p) if p.curve == EllipticCurve::Ed25519 => {
            Ok(Algorithm::EdDSA)
        }
        AlgorithmParameters::EllipticCurve(p) if p.curve == EllipticCurve::P256 => {
            Ok(Algorithm::ES256)
        }
        _ => anyhow::bail!("unsupported key type in JWKS: only Ed25519 and P-256 are accepted"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: i64) -> Claims {
        Claims {
            sub: Uuid::new_v4(),
            iss: "salesync-store".into(),
            aud: "salesync".into(),
            iat: exp - 3600,
            exp,
            username: "kim".into(),
            generation: 0,
        }
    }

    fn verifier() -> TokenVerifier {
        TokenVerifier::from_jwks(&AuthSettings::default(), &JwkSet { keys: Vec::new() })
            .expect("an empty key set")
    }

    #[tokio::test]
    async fn a_verified_token_is_answered_from_memory_until_it_expires() {
        let verifier = verifier();
        let now = unix_now();
        let remembered = claims(now + 60);
        verifier.verified.keep(
            "remembered",
            &remembered,
            verifier.verified.keys_seen(),
            now,
        );

        let answered = verifier.verify("remembered").await.expect("from memory");
        assert_eq!(answered.sub, remembered.sub);
        // No key verifies anything else: memory is the only way through.
        assert!(verifier.verify("another").await.is_err());

        let cache = &verifier.verified;
        let exp = remembered.exp;
        assert!(cache.get("remembered", exp + EXPIRY_LEEWAY_SECS).is_some());
        assert!(
            cache
                .get("remembered", exp + EXPIRY_LEEWAY_SECS + 1)
                .is_none()
        );
    }

    #[test]
    fn a_check_against_replaced_keys_is_not_remembered() {
        let cache = VerifiedTokens::default();
        let before = cache.keys_seen();
        cache.keep("kept", &claims(2_000), before, 1_000);
        cache.forget_all();
        assert!(
            cache.get("kept", 1_000).is_none(),
            "forgotten with the keys"
        );

        // A check that began before the keys changed and ends after.
        cache.keep("late", &claims(2_000), before, 1_000);
        assert!(cache.get("late", 1_000).is_none());
        cache.keep("late", &claims(2_000), cache.keys_seen(), 1_000);
        assert!(cache.get("late", 1_000).is_some());
    }

    #[test]
    fn memory_is_bounded_and_drops_expired_tokens_first() {
        let cache = VerifiedTokens::default();
        let keys = cache.keys_seen();
        let now = 1_000_000;
        for n in 0..MAX_VERIFIED {
            let exp = if n % 2 == 0 { now - 3_600 } else { now + 3_600 };
            cache.keep(&format!("t{n}"), &claims(exp), keys, now);
        }
        cache.keep("newest", &claims(now + 3_600), keys, now);
        let len = cache.0.lock().unwrap().claims.len();
        assert_eq!(len, MAX_VERIFIED / 2 + 1, "only the expired ones went");
        assert!(cache.get("t1", now).is_some());

        for n in 0..MAX_VERIFIED {
            cache.keep(&format!("u{n}"), &claims(now + 3_600), keys, now);
        }
        assert!(cache.0.lock().unwrap().claims.len() <= MAX_VERIFIED);
    }
}
