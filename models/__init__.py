"""Storage: the tables of a plan's life, the database engine and sessions, the clock."""
