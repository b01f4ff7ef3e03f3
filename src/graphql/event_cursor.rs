//! Event cursors: an event's position in the outbox, sealed. Positions
//! are shared by every workspace (transaction ids and one sequence), so
//! two plain cursors of one workspace would tell how many writes every
//! other workspace made in between; sealed, a cursor tells nothing, and
//! cannot be made up.
//!
//! A cursor is XChaCha20-Poly1305 (a random 192-bit nonce per cursor, so
//! nonces never repeat in practice) of the position, with the workspace
//! as associated data: it opens only for the workspace it was issued to,
//! on any process sharing the database's key ([`crate::service::secrets`]).

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chacha20poly1305::{
    KeyInit, XChaCha20Poly1305, XNonce,
    aead::{Aead, Payload},
};
use uuid::Uuid;

use crate::{error::AppError, service::events::Position};

const NONCE_BYTES: usize = 24;
/// Marks what the sealed text means, should another kind ever be sealed.
const CONTEXT: &[u8] = b"chat-gateway event cursor v2";

/// Seals and opens event cursors.
#[derive(Clone)]
pub struct EventCursors {
    cipher: XChaCha20Poly1305,
}

/// What a cursor a client sent stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opened {
    /// The position of an event of the workspace.
    Position(Position),
    /// A cursor of the format before sealing (`e1|N`): it cannot be
    /// trusted to say where the client stood, so the client resyncs.
    Outdated,
}

impl EventCursors {
    /// Cursors sealed with `key`.
    pub fn new(key: &[u8; 32]) -> Self {
        Self {
            cipher: XChaCha20Poly1305::new(key.into()),
        }
    }

    /// The cursor of `position` for `workspace_id`.
    pub fn seal(&self, workspace_id: Uuid, position: Position) -> String {
        let mut plain = position.tx.to_be_bytes().to_vec();
        plain.extend(position.seq.to_be_bytes());
        let mut nonce = [0u8; NONCE_BYTES];
        // The OS's random source does not fail on the systems served; a
        // zero nonce would still seal, only less privately.
        let _ = getrandom::fill(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: &plain,
                    aad: &associated(workspace_id),
                },
            )
            .unwrap_or_default();
        let mut bytes = nonce.to_vec();
        bytes.extend(sealed);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// What `cursor`, sent by a client of `workspace_id` as `field`,
    /// stands for; BAD_USER_INPUT when it is not a cursor this database
    /// issued to this workspace.
    pub fn open(&self, workspace_id: Uuid, cursor: &str, field: &str) -> Result<Opened, AppError> {
        let invalid =
            || AppError::invalid(field, "is not an event cursor; use one an event returned");
        let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
        if bytes.starts_with(b"e1|") {
            return Ok(Opened::Outdated);
        }
        if bytes.len() <= NONCE_BYTES {
            return Err(invalid());
        }
        let (nonce, sealed) = bytes.split_at(NONCE_BYTES);
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().map_err(|_| invalid())?;
        let opened = self
            .cipher
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: sealed,
                    aad: &associated(workspace_id),
                },
            )
            .map_err(|_| invalid())?;
        let number = |bytes: &[u8]| -> Result<i64, AppError> {
            Ok(i64::from_be_bytes(bytes.try_into().map_err(|_| invalid())?))
        };
        match opened.len() {
            16 => Ok(Opened::Position(Position {
                tx: number(&opened[..8])?,
                seq: number(&opened[8..])?,
            })),
            // Sealed before events carried their transaction: those events
            // all stand at transaction 0.
            8 => Ok(Opened::Position(Position {
                tx: 0,
                seq: number(&opened)?,
            })),
            _ => Err(invalid()),
        }
    }
}

fn associated(workspace_id: Uuid) -> Vec<u8> {
    let mut aad = CONTEXT.to_vec();
    aad.extend(workspace_id.as_bytes());
    aad
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_opens_only_for_its_workspace_and_hides_its_position() {
        let cursors = EventCursors::new(&[7; 32]);
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let at = Position { tx: 7_000, seq: 42 };
        let sealed = cursors.seal(a, at);
        assert_eq!(
            cursors.open(a, &sealed, "after").unwrap(),
            Opened::Position(at)
        );
        assert!(
            cursors.open(b, &sealed, "after").is_err(),
            "another workspace's"
        );
        // Two cursors of one position look unrelated.
        assert_ne!(cursors.seal(a, at), sealed);
        // Another database's key, a flipped bit, or garbage: not a cursor.
        assert!(
            EventCursors::new(&[8; 32])
                .open(a, &sealed, "after")
                .is_err()
        );
        let mut bytes = URL_SAFE_NO_PAD.decode(&sealed).unwrap();
        bytes[30] ^= 1;
        assert!(
            cursors
                .open(a, &URL_SAFE_NO_PAD.encode(bytes), "after")
                .is_err()
        );
        for garbage in ["", "not-base64!", "AAAA"] {
            assert!(cursors.open(a, garbage, "after").is_err(), "{garbage}");
        }
        // Sealed before positions had a transaction: the event's seq, at
        // transaction 0 where those events stand.
        let mut nonce = [3u8; NONCE_BYTES].to_vec();
        let sealed_seq = cursors
            .cipher
            .encrypt(
                &XNonce::from([3u8; NONCE_BYTES]),
                Payload {
                    msg: &42i64.to_be_bytes(),
                    aad: &associated(a),
                },
            )
            .unwrap();
        nonce.extend(sealed_seq);
        assert_eq!(
            cursors
                .open(a, &URL_SAFE_NO_PAD.encode(nonce), "after")
                .unwrap(),
            Opened::Position(Position { tx: 0, seq: 42 })
        );
        let outdated = URL_SAFE_NO_PAD.encode("e1|9223372036854775000");
        assert_eq!(
            cursors.open(a, &outdated, "after").unwrap(),
            Opened::Outdated
        );
    }
}
