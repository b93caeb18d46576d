"""The ledger's guarantees in PostgreSQL itself, beyond what the service checks:

- every transaction's entries sum to zero, checked at commit by a deferred constraint
  trigger (so a transaction's entries may be inserted one by one within it);
- entries and transactions are never updated or deleted.

SQLite (the embedded default) has no deferred triggers: there the posting service
(payments/ledger.py) is the guard, and the tests run on PostgreSQL.
"""

from django.db import migrations

POSTGRES_UP = """
CREATE FUNCTION payments_ledger_balanced() RETURNS trigger AS $$
DECLARE
    total numeric;
BEGIN
    SELECT COALESCE(SUM(amount), 0) INTO total
      FROM payments_ledgerentry WHERE transaction_id = NEW.transaction_id;
    IF total <> 0 THEN
        RAISE EXCEPTION 'ledger transaction % does not balance (sum %)', NEW.transaction_id, total
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_transaction_balanced';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER ledger_transaction_balanced
    AFTER INSERT ON payments_ledgerentry
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION payments_ledger_balanced();

CREATE FUNCTION payments_ledger_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the ledger is append-only (% on %)', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER ledger_entry_immutable BEFORE UPDATE OR DELETE ON payments_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION payments_ledger_immutable();
CREATE TRIGGER ledger_transaction_immutable BEFORE UPDATE OR DELETE ON payments_ledgertransaction
    FOR EACH ROW EXECUTE FUNCTION payments_ledger_immutable();
"""

POSTGRES_DOWN = """
DROP TRIGGER ledger_transaction_immutable ON payments_ledgertransaction;
DROP TRIGGER ledger_entry_immutable ON payments_ledgerentry;
DROP FUNCTION payments_ledger_immutable();
DROP TRIGGER ledger_transaction_balanced ON payments_ledgerentry;
DROP FUNCTION payments_ledger_balanced();
"""


def up(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_UP, params=None)


def down(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_DOWN, params=None)


class Migration(migrations.Migration):
    dependencies = [("payments", "0001_initial")]

    operations = [migrations.RunPython(up, down)]
