-- Chapter 08: the create-order saga approves or rejects an order, and
-- ordering announces it (ordersapi.OrderApproved / OrderRejected). search
-- shows those two statuses too, so an approved order is no longer "New" and a
-- rejected one does not look like an order still waiting. The ranks keep the
-- rule of 011_search.sql: a status only moves forward (New 0, Approved 1,
-- Ready For Pickup 2, Canceled or Rejected 3, Completed 4), so a late or
-- redelivered event never takes an order back. The CHECK of search.orders
-- calls this function, so it accepts the two new statuses at once.

CREATE OR REPLACE FUNCTION search.status_rank(status text) RETURNS int
  LANGUAGE sql IMMUTABLE STRICT AS $$
  SELECT CASE status WHEN 'New' THEN 0 WHEN 'Approved' THEN 1
                     WHEN 'Ready For Pickup' THEN 2 WHEN 'Canceled' THEN 3
                     WHEN 'Rejected' THEN 3 WHEN 'Completed' THEN 4 ELSE -1 END
$$;
