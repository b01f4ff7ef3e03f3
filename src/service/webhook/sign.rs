//! Standard Webhooks signatures (standardwebhooks.com): a secret is
//! `whsec_` and the base64 of its key; a request is signed as
//! `v1,` + base64(HMAC-SHA256(key, "{webhook-id}.{webhook-timestamp}.{body}")),
//! several signatures separated by spaces (while a rotated-out key still
//! signs).

use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::error::{AppError, AppResult};

/// The prefix of a secret as Standard Webhooks libraries take it.
pub const PREFIX: &str = "whsec_";

/// Bytes of a new key (the specification asks for 24 to 64).
const KEY_BYTES: usize = 32;

/// A new key, base64 (as stored).
pub fn new_key() -> AppResult<String> {
    let mut key = [0u8; KEY_BYTES];
    getrandom::fill(&mut key)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("OS random source failed: {e}")))?;
    Ok(STANDARD.encode(key))
}

/// The secret a receiver configures for the stored key `key`.
pub fn secret(key: &str) -> String {
    format!("{PREFIX}{key}")
}

/// The `webhook-signature` header for `body` sent as `id` at `timestamp`
/// (Unix seconds), signed with each stored key of `keys`.
pub fn signature<'a>(
    keys: impl IntoIterator<Item = &'a str>,
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> AppResult<String> {
    let signed: Vec<String> = keys
        .into_iter()
        .map(|key| {
            let key = STANDARD.decode(key).map_err(|e| {
                AppError::Internal(anyhow::anyhow!("a webhook key is malformed: {e}"))
            })?;
            let mut mac = Hmac::<Sha256>::new_from_slice(&key)
                .map_err(|e| AppError::Internal(anyhow::anyhow!("bad webhook key: {e}")))?;
            mac.update(format!("{id}.{timestamp}.").as_bytes());
            mac.update(body);
            Ok(format!(
                "v1,{}",
                STANDARD.encode(mac.finalize().into_bytes())
            ))
        })
        .collect::<AppResult<_>>()?;
    Ok(signed.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks specification's test vectors.
    #[test]
    fn signs_as_the_specification_does() {
        let key = "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            signature([key], id, 1614265330, body).unwrap(),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }
}
