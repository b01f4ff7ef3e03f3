-- CREATE floor: the statements createChat sends, in one transaction: check
-- the channel, the owner and the responder, pin the responder's latest
-- version, insert the chat (the counter trigger fires as for the gateway),
-- record the event (with its transaction id). Nothing else serialises the
-- writers; bench/run adds the NOTIFY the gateway sends after its commits for
-- the "as run" floor.
-- pgbench -M prepared -D ws=<uuid> -D channel=<uuid> -D owner=<uuid> -D responder=<uuid>
BEGIN;
SELECT id, workspace_id, name, type FROM channels WHERE id = :channel AND workspace_id = :ws LIMIT 1;
SELECT id, workspace_id, kind FROM super_identities WHERE id = :owner AND workspace_id = :ws LIMIT 1;
SELECT id, workspace_id, kind FROM super_identities WHERE id = :responder AND workspace_id = :ws LIMIT 1;
SELECT id AS responder_id FROM responders WHERE super_identity_id = :responder AND workspace_id = :ws LIMIT 1 \gset
SELECT id AS version_id FROM responder_versions WHERE responder_id = :responder_id
 ORDER BY version_number DESC LIMIT 1 \gset
INSERT INTO chats (id, workspace_id, channel_id, owner_super_identity_id, responder_super_identity_id,
  responder_version_id, ticket_id, title, created_at, updated_at, removed_at, last_message_at)
VALUES (gen_random_uuid(), :ws, :channel, :owner, :responder, :version_id, NULL, 'Benchmark chat',
        now(), now(), NULL, NULL)
RETURNING id AS chat_id, workspace_id, channel_id, owner_super_identity_id, responder_super_identity_id,
  responder_version_id, ticket_id, title, created_at, updated_at, removed_at, last_message_at \gset
INSERT INTO chat_events (workspace_id, chat_id, kind, message_id, created_at, channel_id, channel_type,
  owner_super_identity_id, owner_is_blocked, chat_created_at, responder_super_identity_id, ticket_id,
  ticket_status, last_message_at, removed, prev_responder_super_identity_id, prev_ticket_id,
  prev_ticket_status, prev_last_message_at, prev_removed, actor_kind, actor_id, actor_name, tx, trace_parent)
SELECT c.workspace_id, c.id, v.column3, v.column4, now(), c.channel_id, ch.type, c.owner_super_identity_id,
  COALESCE(eu.is_blocked, FALSE), c.created_at, c.responder_super_identity_id, c.ticket_id, t.status,
  c.last_message_at, c.removed_at IS NOT NULL, v.column5, v.column6, pt.status, v.column7, v.column8,
  'api_key', 'bench', 'bench', pg_current_xact_id()::text::bigint, NULL
FROM (VALUES (0, :chat_id::uuid, 'created', NULL::uuid, NULL::uuid, NULL::uuid,
              NULL::timestamptz, NULL::boolean)) AS v
JOIN chats c ON c.id = v.column2 JOIN channels ch ON ch.id = c.channel_id
LEFT JOIN tickets t ON t.id = c.ticket_id LEFT JOIN tickets pt ON pt.id = v.column6
LEFT JOIN external_users eu ON eu.super_identity_id = c.owner_super_identity_id
WHERE c.workspace_id = :ws ORDER BY v.column1;
COMMIT;
