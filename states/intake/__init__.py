"""Bulk intake from the HR system: the organisation (people, departments, managers,
heads, locales) from a CSV file, checked as a whole and written in one transaction
(`people`), on a reader of CSV files that tells every problem by row and column
(`csvfile`)."""
