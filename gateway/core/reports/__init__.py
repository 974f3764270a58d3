"""Reports: time by any dimension, project progress, timesheets against contracts, sync status; all aggregated
in the database, the same on PostgreSQL and SQLite, and limited to what the caller may see."""
