//! The demo workspace: created on the first start of an empty database so a
//! newcomer has realistic data to query at once. Channels of every type,
//! platform and external owners, agents and squads with versions, about 50
//! chats with messages, some tickets and one removed chat. Deterministic:
//! every start of an empty database builds the same shapes.

use chrono::{DateTime, Duration, Utc};
use entity::enums::{ChannelType, MessageRole, ResponderKind, TicketStatus};
use sea_orm::{DatabaseConnection, TransactionTrait};
use serde::Serialize;
use uuid::Uuid;

use crate::{
    error::AppResult,
    service::actor::Actor,
    service::{
        self,
        chat::{ChatChanges, NewChat, Patch},
        directory,
        message::{self, NewMessage},
        workspace,
        write::Writer,
    },
};

/// How many chats the demo holds.
pub const DEMO_CHATS: usize = 50;

/// What a newcomer needs to try the demo; printed as JSON on stdout.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Demo {
    /// The demo workspace.
    pub workspace_id: Uuid,
    /// A key of the demo workspace (shown once).
    pub api_key: String,
    /// Where GraphiQL is served.
    pub graphiql_url: String,
}

const CHANNELS: [(&str, ChannelType); 5] = [
    ("Website chat", ChannelType::Widget),
    ("WhatsApp (WAHA)", ChannelType::Waha),
    ("WhatsApp Business", ChannelType::Whatsapp),
    ("Instagram DMs", ChannelType::Instagram),
    ("Partner API", ChannelType::Api),
];

const USERS: [(&str, &str); 3] = [
    ("ana.souza@acme.example", "Ana Souza"),
    ("li.wei@acme.example", "Li Wei"),
    ("tom.becker@acme.example", "Tom Becker"),
];

const CUSTOMERS: [(&str, &str); 12] = [
    ("+55 11 91234-5678", "Mariana Costa"),
    ("+34 612 345 678", "Javier Ruiz"),
    ("@kiki.designs", "Kiki Tanaka"),
    ("visitor-7f3a", "Website visitor"),
    ("+1 415 555 0134", "Grace Miller"),
    ("@noah_runs", "Noah Fischer"),
    ("crm-10442", "Priya Nair"),
    ("+49 151 2345 6789", "Lena Wagner"),
    ("visitor-c21e", "Website visitor"),
    ("@oliver.eats", "Oliver Brown"),
    ("+351 912 345 678", "João Pereira"),
    ("crm-10917", "Amara Okafor"),
];

const RESPONDERS: [(ResponderKind, &str, i32); 4] = [
    (ResponderKind::Agent, "Ava · Support", 3),
    (ResponderKind::Agent, "Billing Assistant", 2),
    (ResponderKind::Squad, "Tier-1 Squad", 2),
    (ResponderKind::Squad, "Sales Squad", 1),
];

const TITLES: [&str; 10] = [
    "Order not delivered",
    "Refund request",
    "Change of address",
    "Question about pricing",
    "Cannot log in",
    "Invoice copy",
    "Product availability",
    "Cancel subscription",
    "Warranty claim",
    "Partnership inquiry",
];

/// Conversations, each a list of (role, text); chats replay a prefix of one.
const SCRIPTS: [&[(MessageRole, &str)]; 4] = [
    &[
        (
            MessageRole::User,
            "Hi! My order #4821 was supposed to arrive yesterday but the tracking hasn't moved since Monday.",
        ),
        (
            MessageRole::Assistant,
            "Sorry about the wait! I checked order #4821: the carrier reports a delay at the regional hub. It should be delivered within two business days.",
        ),
        (MessageRole::User, "Ok, can I get a discount for the delay?"),
        (
            MessageRole::System,
            "Conversation handed over to a human operator.",
        ),
        (
            MessageRole::Operator,
            "Hi, this is Ana. I've added a 10% voucher to your account for the trouble. 🙏",
        ),
        (MessageRole::User, "Thank you, that's great!"),
    ],
    &[
        (
            MessageRole::User,
            "Olá, gostaria de saber o preço do plano anual.",
        ),
        (
            MessageRole::Assistant,
            "Olá! O plano anual custa R$ 1.188, o equivalente a dois meses grátis em relação ao mensal. Posso ajudar com a assinatura?",
        ),
        (MessageRole::User, "Sim, por favor."),
        (
            MessageRole::Assistant,
            "Perfeito! Enviei o link de pagamento para o seu e-mail cadastrado.",
        ),
    ],
    &[
        (MessageRole::User, "I was charged twice this month."),
        (
            MessageRole::Assistant,
            "I can see two charges of $29.00 on the 3rd. The second one is a duplicate authorization and will be released by your bank within 5 days.",
        ),
        (MessageRole::User, "It's been a week already."),
        (
            MessageRole::Assistant,
            "Understood. I've opened a refund ticket so our billing team can reverse it manually.",
        ),
        (
            MessageRole::Operator,
            "Refund issued. You'll see it on your statement in 1–3 business days.",
        ),
    ],
    &[
        (MessageRole::User, "Do you ship the blue model to Portugal?"),
        (
            MessageRole::Assistant,
            "Yes, we ship to Portugal! The blue model is in stock and usually arrives in 3–5 days.",
        ),
        (MessageRole::User, "Great, and is there a warranty?"),
    ],
];

/// Creates the demo workspace if the database holds no workspace at all.
pub async fn create_if_empty(db: &DatabaseConnection, base_url: &str) -> AppResult<Option<Demo>> {
    if workspace::any(db).await? {
        return Ok(None);
    }
    let (workspace, key) = workspace::create(db, "Acme Support (demo)", "demo").await?;
    populate(db, workspace.id, service::now()).await?;
    Ok(Some(Demo {
        workspace_id: workspace.id,
        api_key: key.key,
        graphiql_url: format!("{base_url}/graphql"),
    }))
}

/// Fills `workspace_id` with the demo data, chats dating back from `now`.
async fn populate(
    db: &DatabaseConnection,
    workspace_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let txn = db.begin().await?;
    let actor = Actor::system();
    let mut channels = Vec::new();
    for (name, channel_type) in CHANNELS {
        channels.push(directory::create_channel(&txn, workspace_id, name, channel_type).await?);
    }
    let mut owners = Vec::new();
    for (email, name) in USERS {
        owners.push(
            directory::create_user(&txn, workspace_id, email, name)
                .await?
                .super_identity_id,
        );
    }
    for (i, (external_id, name)) in CUSTOMERS.into_iter().enumerate() {
        let blocked = i == 5;
        let customer =
            directory::create_external_user(&txn, workspace_id, external_id, name, blocked);
        owners.push(customer.await?.super_identity_id);
    }
    let mut responders = Vec::new();
    for (kind, name, versions) in RESPONDERS {
        let picture = format!("https://cdn.acme.example/avatars/{}.png", name.len());
        let (responder, _) =
            directory::create_responder(&txn, workspace_id, kind, name, Some(&picture), versions)
                .await?;
        responders.push(responder.super_identity_id);
    }
    let writer = Writer::new(&txn, workspace_id, &actor);
    for i in 0..DEMO_CHATS {
        let started = now - Duration::minutes(97 * i as i64 + 13);
        let new = NewChat {
            channel_id: channels[i % channels.len()].id,
            owner_super_identity_id: owners[(i * 7) % owners.len()],
            // Every sixth chat waits for a responder.
            responder_super_identity_id: (i % 6 != 5).then(|| responders[i % responders.len()]),
            title: (i % 9 != 4).then(|| TITLES[i % TITLES.len()].to_owned()),
            created_at: Some(started),
        };
        let chat = service::chat::create(writer, new, None).await?;
        let script = SCRIPTS[i % SCRIPTS.len()];
        for (n, (role, text)) in script.iter().take(1 + i % script.len()).enumerate() {
            let at = started + Duration::minutes(2 * n as i64 + 1);
            let new = NewMessage {
                chat_id: chat.id,
                role: *role,
                content: (*text).to_owned(),
                created_at: Some(at),
            };
            message::post(writer, new, None).await?;
        }
        if i % 4 == 1 {
            let status = [
                TicketStatus::Open,
                TicketStatus::Pending,
                TicketStatus::Resolved,
                TicketStatus::Closed,
            ][(i / 4) % 4];
            let ticket = directory::create_ticket(&txn, workspace_id, status).await?;
            let link = ChatChanges {
                ticket_id: Patch::Set(ticket.id),
                ..ChatChanges::default()
            };
            service::chat::update(writer, chat.id, link).await?;
        }
        if i == 17 {
            service::chat::remove(writer, chat.id).await?;
        }
    }
    txn.commit().await?;
    Ok(())
}
