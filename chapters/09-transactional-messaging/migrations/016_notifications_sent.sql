-- 016_notifications_sent.sql -- chapter 09: the notifications a module has sent.
--
-- notifications.sent holds one row per notification sent (what an SMS provider would be handed:
-- which notification, for which order, to which customer, name and number). The module writes the
-- row in the transaction of the order event that caused it, together with that event's
-- notifications.inbox row, so an event delivered twice sends once. The table is also how to check
-- it: a notification sent twice is an (order_id, notification) pair with more than one row:
--
--   SELECT order_id, notification, count(*) FROM notifications.sent
--    GROUP BY 1, 2 HAVING count(*) > 1;
--
-- No unique key on (order_id, notification) on purpose: the inbox is what keeps a notification
-- single, and a count that could only ever be 1 would prove nothing.
CREATE TABLE notifications.sent
(
  id            bigint      GENERATED ALWAYS AS IDENTITY,
  notification  text        NOT NULL,
  order_id      text        NOT NULL,
  customer_id   text        NOT NULL,
  customer_name text        NOT NULL,
  sms_number    text        NOT NULL,
  sent_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (id)
);

CREATE INDEX notifications_sent_order_idx ON notifications.sent (order_id, notification);
