"""The schema migrations, applied in order by ``kitlib migrate`` and at start-up."""
