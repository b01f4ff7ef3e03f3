//! Deterministic synthetic data shaped like a real inbox. Every id and
//! value derives from the random seed and the row's index alone, so the
//! same seed gives the same rows however they are chunked, and nothing but
//! the current chunk is held in memory.

use chrono::{DateTime, Duration, TimeZone, Utc};
use rand::{Rng, SeedableRng, seq::IndexedRandom};
use rand_chacha::ChaCha8Rng;
use uuid::Uuid;

use super::batch::{Batch, Cell};

/// Responders in the seeded workspace: half agents, half squads.
pub const RESPONDERS: u64 = 20;
/// Versions of each responder.
pub const VERSIONS: u64 = 3;
/// Channels: two of each of the five types.
pub const CHANNEL_TYPES: [&str; 5] = ["widget", "waha", "whatsapp", "instagram", "api"];
pub const CHANNELS: u64 = 10;

/// The kinds of generated ids; each kind has its own id space.
#[derive(Clone, Copy)]
#[repr(u64)]
enum Kind {
    Channel = 1,
    Owner,
    OwnerRow,
    Responder,
    ResponderIdentity,
    Version,
    Ticket,
    Chat,
    Message,
}

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub workspace_id: Uuid,
    pub chats: u64,
    pub messages_per_chat_max: u32,
    pub seed: u64,
}

/// splitmix64: a cheap, well-mixed hash of a counter.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

const WORDS: [&str; 48] = [
    "order",
    "delivery",
    "refund",
    "invoice",
    "account",
    "password",
    "please",
    "thanks",
    "hello",
    "问题",
    "olá",
    "pedido",
    "envío",
    "tracking",
    "number",
    "yesterday",
    "today",
    "tomorrow",
    "payment",
    "card",
    "declined",
    "subscription",
    "cancel",
    "upgrade",
    "plan",
    "price",
    "discount",
    "coupon",
    "store",
    "address",
    "change",
    "email",
    "phone",
    "support",
    "agent",
    "human",
    "wait",
    "minutes",
    "hours",
    "sorry",
    "great",
    "help",
    "need",
    "could",
    "you",
    "check",
    "my",
    "the",
];

impl Shape {
    /// Distinct chat owners: about one per five chats.
    pub fn owners(&self) -> u64 {
        (self.chats / 5).max(1)
    }

    fn id(&self, kind: Kind, index: u64) -> Uuid {
        let high = mix(self.seed ^ mix(kind as u64) ^ mix(index));
        let low = mix(high ^ index.rotate_left(17) ^ self.workspace_id.as_u64_pair().0);
        uuid::Builder::from_random_bytes(((u128::from(high) << 64) | u128::from(low)).to_be_bytes())
            .into_uuid()
    }

    fn rng(&self, kind: Kind, index: u64) -> ChaCha8Rng {
        ChaCha8Rng::seed_from_u64(mix(self.seed ^ mix(kind as u64 ^ (index << 8))))
    }

    /// Platform users are every fifth owner (about 20%); the rest are external.
    fn owner_is_user(index: u64) -> bool {
        index.is_multiple_of(5)
    }

    /// Channels, responders and their versions.
    pub fn directory(&self) -> Vec<Batch> {
        let ws = Cell::Uuid(self.workspace_id);
        let mut channels = Batch::new("channels", &["id", "workspace_id", "name", "type"]);
        for i in 0..CHANNELS {
            let kind = CHANNEL_TYPES[(i % 5) as usize];
            let name = format!("{kind} #{}", i / 5 + 1);
            channels.push(vec![
                Cell::Uuid(self.id(Kind::Channel, i)),
                ws.clone(),
                Cell::Text(name),
                Cell::Text(kind.into()),
            ]);
        }
        let mut identities = Batch::new("super_identities", &["id", "workspace_id", "kind"]);
        let mut responders = Batch::new(
            "responders",
            &[
                "id",
                "workspace_id",
                "super_identity_id",
                "kind",
                "name",
                "picture",
            ],
        );
        let mut versions = Batch::new(
            "responder_versions",
            &["id", "responder_id", "version_number"],
        );
        for i in 0..RESPONDERS {
            let kind = if i.is_multiple_of(2) {
                "agent"
            } else {
                "squad"
            };
            let identity = self.id(Kind::ResponderIdentity, i);
            let responder = self.id(Kind::Responder, i);
            identities.push(vec![
                Cell::Uuid(identity),
                ws.clone(),
                Cell::Text(kind.into()),
            ]);
            let picture = format!("https://avatars.example/{kind}-{i}.png");
            responders.push(vec![
                Cell::Uuid(responder),
                ws.clone(),
                Cell::Uuid(identity),
                Cell::Text(kind.into()),
                Cell::Text(format!(
                    "{} {}",
                    if kind == "agent" { "Agent" } else { "Squad" },
                    i / 2 + 1
                )),
                Cell::Text(picture),
            ]);
            for v in 0..VERSIONS {
                let id = self.id(Kind::Version, i * VERSIONS + v);
                versions.push(vec![
                    Cell::Uuid(id),
                    Cell::Uuid(responder),
                    Cell::Int(v as i32 + 1),
                ]);
            }
        }
        vec![channels, identities, responders, versions]
    }

    /// Owners `range`: their super identities, users and external users.
    pub fn owners_chunk(&self, range: std::ops::Range<u64>) -> Vec<Batch> {
        let ws = Cell::Uuid(self.workspace_id);
        let mut identities = Batch::new("super_identities", &["id", "workspace_id", "kind"]);
        let mut users = Batch::new(
            "users",
            &["id", "super_identity_id", "email", "name", "picture"],
        );
        let mut externals = Batch::new(
            "external_users",
            &[
                "id",
                "workspace_id",
                "super_identity_id",
                "external_id",
                "name",
                "is_blocked",
            ],
        );
        for i in range {
            let identity = self.id(Kind::Owner, i);
            let row = Cell::Uuid(self.id(Kind::OwnerRow, i));
            let name = Cell::Text(format!("Customer {i}"));
            if Self::owner_is_user(i) {
                identities.push(vec![
                    Cell::Uuid(identity),
                    ws.clone(),
                    Cell::Text("user".into()),
                ]);
                let email = Cell::Text(format!("user{i}@seed.example"));
                users.push(vec![row, Cell::Uuid(identity), email, name, Cell::Null]);
            } else {
                identities.push(vec![
                    Cell::Uuid(identity),
                    ws.clone(),
                    Cell::Text("external_user".into()),
                ]);
                let external_id = Cell::Text(format!("+1555{i:07}"));
                let blocked = Cell::Bool(i.is_multiple_of(97));
                externals.push(vec![
                    row,
                    ws.clone(),
                    Cell::Uuid(identity),
                    external_id,
                    name,
                    blocked,
                ]);
            }
        }
        vec![identities, users, externals]
    }

    /// Chats `range` with their tickets and messages.
    pub fn chats_chunk(&self, range: std::ops::Range<u64>) -> Vec<Batch> {
        let ws = Cell::Uuid(self.workspace_id);
        let mut tickets = Batch::new("tickets", &["id", "workspace_id", "status"]);
        let mut chats = Batch::new(
            "chats",
            &[
                "id",
                "workspace_id",
                "channel_id",
                "owner_super_identity_id",
                "responder_super_identity_id",
                "responder_version_id",
                "ticket_id",
                "title",
                "created_at",
                "updated_at",
                "removed_at",
                "last_message_at",
            ],
        );
        let mut messages = Batch::new(
            "messages",
            &["id", "chat_id", "role", "content", "created_at"],
        );
        let per_chat = u64::from(self.messages_per_chat_max.max(1));
        for i in range {
            let mut rng = self.rng(Kind::Chat, i);
            let id = self.id(Kind::Chat, i);
            let created_at = epoch() - Duration::seconds(rng.random_range(0..730 * 86_400));
            let owner = self.id(Kind::Owner, rng.random_range(0..self.owners()));
            let channel = self.id(Kind::Channel, rng.random_range(0..CHANNELS));
            let (responder, version) = if rng.random_bool(0.9) {
                let r = rng.random_range(0..RESPONDERS);
                let v = rng.random_range(0..VERSIONS);
                (
                    Cell::Uuid(self.id(Kind::ResponderIdentity, r)),
                    Cell::Uuid(self.id(Kind::Version, r * VERSIONS + v)),
                )
            } else {
                (Cell::Null, Cell::Null)
            };
            let ticket = if rng.random_bool(0.3) {
                let ticket = self.id(Kind::Ticket, i);
                let status = ["open", "pending", "resolved", "closed"]
                    .choose(&mut rng)
                    .unwrap();
                tickets.push(vec![
                    Cell::Uuid(ticket),
                    ws.clone(),
                    Cell::Text((*status).into()),
                ]);
                Cell::Uuid(ticket)
            } else {
                Cell::Null
            };
            let mut at = created_at;
            let count = rng.random_range(1..=per_chat);
            for m in 0..count {
                at += Duration::seconds(rng.random_range(5..3_600));
                let role = match (m % 2, rng.random_range(0..20)) {
                    (_, 0) => "operator",
                    (_, 1) => "system",
                    (0, _) => "user",
                    _ => "assistant",
                };
                let message_id = self.id(Kind::Message, i * per_chat + m);
                let content = content(&mut rng);
                messages.push(vec![
                    Cell::Uuid(message_id),
                    Cell::Uuid(id),
                    Cell::Text(role.into()),
                    Cell::Text(content),
                    Cell::Time(at),
                ]);
            }
            let removed = if rng.random_bool(0.05) {
                Cell::Time(at + Duration::hours(1))
            } else {
                Cell::Null
            };
            let title = if rng.random_bool(0.8) {
                Cell::Text(format!("Conversation {i}"))
            } else {
                Cell::Null
            };
            chats.push(vec![
                Cell::Uuid(id),
                ws.clone(),
                Cell::Uuid(channel),
                Cell::Uuid(owner),
                responder,
                version,
                ticket,
                title,
                Cell::Time(created_at),
                Cell::Time(at),
                removed,
                Cell::Time(at),
            ]);
        }
        vec![tickets, chats, messages]
    }
}

/// A message of 20 to 400 characters.
fn content(rng: &mut ChaCha8Rng) -> String {
    let target = rng.random_range(20..=400);
    let mut text = String::with_capacity(target + 16);
    while text.chars().count() < target {
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(WORDS.choose(rng).unwrap());
    }
    text.chars().take(target).collect()
}

/// When the generated data's clock starts (chats are created in the two
/// years before it).
pub fn epoch() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape() -> Shape {
        Shape {
            workspace_id: Uuid::nil(),
            chats: 100,
            messages_per_chat_max: 20,
            seed: 7,
        }
    }

    fn render(batches: Vec<Batch>) -> Vec<String> {
        batches
            .iter()
            .flat_map(|b| b.rows.iter().map(|r| format!("{} {r:?}", b.table)))
            .collect()
    }

    #[test]
    fn same_seed_gives_same_rows_however_chunked() {
        let whole = render(shape().chats_chunk(0..50));
        let mut chunked = render(shape().chats_chunk(0..20));
        chunked.extend(render(shape().chats_chunk(20..50)));
        whole.iter().for_each(|row| assert!(chunked.contains(row)));
        assert_eq!(whole.len(), chunked.len());
        assert_ne!(
            whole,
            render(Shape { seed: 8, ..shape() }.chats_chunk(0..50))
        );
    }

    #[test]
    fn messages_are_20_to_400_characters_and_1_to_max_per_chat() {
        let batches = shape().chats_chunk(0..100);
        let messages = batches.iter().find(|b| b.table == "messages").unwrap();
        for row in &messages.rows {
            let Cell::Text(content) = &row[3] else {
                panic!("content is text")
            };
            assert!((20..=400).contains(&content.chars().count()), "{content}");
        }
        let per_chat = messages.rows.len() as f64 / 100.0;
        assert!(
            (5.0..=16.0).contains(&per_chat),
            "about 10.5 messages per chat, got {per_chat}"
        );
    }
}
