-- POST floor: the statements postMessage sends, in one transaction, to one
-- of the newest 1,000 live chats (bench_post_chats, made by bench/run), as
-- the gateway's body file spreads them: lock the chat and move its times
-- (one statement), insert the message, record the event (with its
-- transaction id).
-- Nothing else serialises the writers; bench/run adds the NOTIFY the gateway
-- sends after its commits for the "as run" floor.
-- pgbench -M prepared -D ws=<uuid>
\set i random(0, 999)
BEGIN;
WITH prior AS (SELECT id, last_message_at FROM chats
               WHERE id = (SELECT id FROM bench_post_chats WHERE i = :i) AND workspace_id = :ws
                 AND removed_at IS NULL FOR UPDATE)
UPDATE chats SET last_message_at = GREATEST(chats.last_message_at, now()),
                 updated_at = GREATEST(chats.updated_at, now())
FROM prior WHERE chats.id = prior.id
RETURNING chats.id AS chat_id, chats.last_message_at, prior.last_message_at AS prior_last_message_at \gset
INSERT INTO messages (id, chat_id, role, content, created_at, author_kind, author_id, author_name)
VALUES (gen_random_uuid(), :chat_id, 'user', 'Benchmark message', now(), 'api_key', 'bench', 'bench')
RETURNING id AS message_id, chat_id, role, content, created_at, author_kind, author_id, author_name \gset
INSERT INTO chat_events (workspace_id, chat_id, kind, message_id, created_at, channel_id, channel_type,
  owner_super_identity_id, owner_is_blocked, chat_created_at, responder_super_identity_id, ticket_id,
  ticket_status, last_message_at, removed, prev_responder_super_identity_id, prev_ticket_id,
  prev_ticket_status, prev_last_message_at, prev_removed, actor_kind, actor_id, actor_name, tx, trace_parent)
SELECT c.workspace_id, c.id, v.column3, v.column4, now(), c.channel_id, ch.type, c.owner_super_identity_id,
  COALESCE(eu.is_blocked, FALSE), c.created_at, c.responder_super_identity_id, c.ticket_id, t.status,
  c.last_message_at, c.removed_at IS NOT NULL, v.column5, v.column6, pt.status, v.column7, v.column8,
  'api_key', 'bench', 'bench', pg_current_xact_id()::text::bigint, NULL
FROM (VALUES (0, :chat_id::uuid, 'message_posted', :message_id::uuid, NULL::uuid, NULL::uuid,
              NULL::timestamptz, false)) AS v
JOIN chats c ON c.id = v.column2 JOIN channels ch ON ch.id = c.channel_id
LEFT JOIN tickets t ON t.id = c.ticket_id LEFT JOIN tickets pt ON pt.id = v.column6
LEFT JOIN external_users eu ON eu.super_identity_id = c.owner_super_identity_id
WHERE c.workspace_id = :ws ORDER BY v.column1;
COMMIT;
