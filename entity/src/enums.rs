//! String-backed enumerations shared by several tables.

use sea_orm::entity::prelude::*;

/// What a super identity stands for: one id space for owners and responders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum IdentityKind {
    #[sea_orm(string_value = "user")]
    User,
    #[sea_orm(string_value = "external_user")]
    ExternalUser,
    #[sea_orm(string_value = "agent")]
    Agent,
    #[sea_orm(string_value = "squad")]
    Squad,
}

/// Whether a responder is a single AI agent or a squad of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum ResponderKind {
    #[sea_orm(string_value = "agent")]
    Agent,
    #[sea_orm(string_value = "squad")]
    Squad,
}

/// The transport a chat arrives on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum ChannelType {
    #[sea_orm(string_value = "widget")]
    Widget,
    #[sea_orm(string_value = "waha")]
    Waha,
    #[sea_orm(string_value = "whatsapp")]
    Whatsapp,
    #[sea_orm(string_value = "instagram")]
    Instagram,
    #[sea_orm(string_value = "api")]
    Api,
}

/// Where a support ticket stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum TicketStatus {
    #[sea_orm(string_value = "open")]
    Open,
    #[sea_orm(string_value = "pending")]
    Pending,
    #[sea_orm(string_value = "resolved")]
    Resolved,
    #[sea_orm(string_value = "closed")]
    Closed,
}

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum MessageRole {
    #[sea_orm(string_value = "user")]
    User,
    #[sea_orm(string_value = "assistant")]
    Assistant,
    #[sea_orm(string_value = "operator")]
    Operator,
    #[sea_orm(string_value = "system")]
    System,
}

/// What happened to a chat, as its event records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum ChatEventKind {
    #[sea_orm(string_value = "created")]
    Created,
    #[sea_orm(string_value = "updated")]
    Updated,
    #[sea_orm(string_value = "removed")]
    Removed,
    #[sea_orm(string_value = "message_posted")]
    MessagePosted,
}

/// Who made a change: an API key, or a person signed in with a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum ActorKind {
    #[sea_orm(string_value = "api_key")]
    ApiKey,
    #[sea_orm(string_value = "user")]
    User,
}
