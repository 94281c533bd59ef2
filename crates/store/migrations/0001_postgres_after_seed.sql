-- Seeded rows carry explicit ids; move the identity sequences past them.
SELECT setval(pg_get_serial_sequence('groups', 'id'), 100);
SELECT setval(pg_get_serial_sequence('ticket_fields', 'id'), 100);
