-- Shared helpers (schema public), owned by no single module.
--
-- Every table of the chapter-03 modules has created_at/updated_at columns
-- maintained by two BEFORE UPDATE row triggers built on these functions.
-- Each module owns its own schema; there are no cross-schema foreign keys.

-- Keeps the original creation time: an UPDATE can never change created_at.
CREATE OR REPLACE FUNCTION public.created_at_trigger()
RETURNS TRIGGER
LANGUAGE plpgsql
AS $fn$
BEGIN
  NEW.created_at := OLD.created_at;
  RETURN NEW;
END;
$fn$;

-- Stamps updated_at with the current time, but only when the UPDATE actually
-- changes something; a no-op UPDATE keeps the previous updated_at.
CREATE OR REPLACE FUNCTION public.updated_at_trigger()
RETURNS TRIGGER
LANGUAGE plpgsql
AS $fn$
BEGIN
  IF ROW(NEW.*) IS DISTINCT FROM ROW(OLD.*) THEN
    NEW.updated_at := NOW();
  END IF;
  RETURN NEW;
END;
$fn$;
