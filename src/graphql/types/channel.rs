//! `Channel`: where a chat arrives.

use async_graphql::Object;
use entity::channel;
use uuid::Uuid;

use super::enums::ChannelType;

/// A channel chats arrive on (web widget, WhatsApp, WAHA, Instagram, API).
pub struct Channel(pub channel::Model);

/// A channel chats arrive on (web widget, WhatsApp, WAHA, Instagram, API).
#[Object]
impl Channel {
    /// The channel ID associated with the chat.
    async fn id(&self) -> Uuid {
        self.0.id
    }

    /// The display name of the channel.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// The type of the channel.
    #[graphql(name = "type")]
    async fn channel_type(&self) -> ChannelType {
        self.0.channel_type.into()
    }
}
