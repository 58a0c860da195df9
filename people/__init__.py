"""People: the directory of people and departments, standing roles beyond any one plan,
proving who someone is (tokens, passwords, sessions), what each person may see and do,
and who holds which part in a plan (its manager, HR partner, department head).

Beneath the rules: `states` asks here who someone is to a plan; nothing here knows
about definitions or transitions."""
