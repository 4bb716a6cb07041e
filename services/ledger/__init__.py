"""The staff and household register (menu: Ledger): the unit profile, staff and family
members, who is in post on a day, validation and ID numbers, spreadsheet import."""
