-- 013_cosec.sql -- chapter 08: the cosec module's saga states.
--
-- One row per saga (the book's cosec.sagas): the orchestrator writes it after every step, so a
-- restarted program carries on where the saga stood. `data` is the saga's data as JSON
-- (cosec.CreateOrderData); `step` the step whose command was sent last; `awaiting` that command's
-- id (a reply to another command is a late duplicate; the book has no such column).
CREATE SCHEMA cosec;

CREATE TABLE cosec.sagas
(
  id           text        NOT NULL,
  name         text        NOT NULL,
  data         jsonb       NOT NULL,
  step         int         NOT NULL,
  done         bool        NOT NULL,
  compensating bool        NOT NULL,
  awaiting     text        NOT NULL DEFAULT '',
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (id, name)
);
