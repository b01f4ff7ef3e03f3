-- FILTERED floor, naive single statement: page 3 (10 per page) of the live chats of
-- workspace :ws on channels :ch1 and :ch2, with everything the GraphQL FILTERED
-- operation asks for and the total as count(*) OVER () (every matching row is joined
-- and counted before the page is cut).
-- pgbench -M prepared -D ws=<uuid> -D ch1=<uuid> -D ch2=<uuid>
SELECT c.id, c.title, c.created_at, c.removed_at,
       ch.id AS channel_id, ch.name AS channel_name, ch.type AS channel_type,
       osi.id AS owner_id, osi.kind AS owner_kind,
       u.email AS user_email, u.name AS user_name,
       eu.external_id, eu.name AS external_name, eu.is_blocked,
       r.name AS responder_name, r.picture AS responder_picture, r.kind AS responder_kind,
       rv.id AS responder_version_id, rv.version_number,
       t.id AS ticket_id, t.status AS ticket_status,
       lm.messages,
       count(*) OVER () AS total
FROM chats c
JOIN channels ch ON ch.id = c.channel_id
JOIN super_identities osi ON osi.id = c.owner_super_identity_id
LEFT JOIN users u ON u.super_identity_id = c.owner_super_identity_id
LEFT JOIN external_users eu ON eu.super_identity_id = c.owner_super_identity_id
LEFT JOIN responders r ON r.super_identity_id = c.responder_super_identity_id
LEFT JOIN responder_versions rv ON rv.id = c.responder_version_id
LEFT JOIN tickets t ON t.id = c.ticket_id
CROSS JOIN LATERAL (
  SELECT json_agg(json_build_object('content', m.content, 'role', m.role, 'createdAt', m.created_at)
                  ORDER BY m.created_at DESC, m.id DESC) AS messages
  FROM (SELECT m.id, m.content, m.role, m.created_at
        FROM messages m
        WHERE m.chat_id = c.id
        ORDER BY m.created_at DESC, m.id DESC
        LIMIT 2) m
) lm
WHERE c.workspace_id = :ws AND c.removed_at IS NULL AND c.channel_id IN (:ch1, :ch2)
ORDER BY c.created_at DESC, c.id DESC
OFFSET 20 LIMIT 10;
