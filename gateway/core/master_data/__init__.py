"""Services for the master data: customers, projects, activities, accounts, teams, contracts, presets, holidays."""
